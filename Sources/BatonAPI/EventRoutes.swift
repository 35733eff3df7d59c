import Hummingbird
import ServiceLifecycle

/// `GET /api/events`: which sessions changed, as a long-poll over the process's one LISTEN
/// connection, so that a page showing a list of sessions and their counts follows every change
/// with one request outstanding (no timer per row, no connection per client). The answer names
/// the changed sessions; the page reads what it shows again.
///
/// A long-poll rather than server-sent events: a browser's EventSource cannot send the
/// `Authorization` header the token needs, and a bounded request ends cleanly at shutdown.
struct EventRoutes: Sendable {
    let hub: ProgressHub
    let configuration: APIConfiguration

    struct Changes: Encodable {
        /// Send back as `since` to learn what changed after this answer.
        var cursor: String
        /// The sessions that changed after `since` (each once); empty with `all`.
        var sessions: [String]
        /// True when anything may have changed: no `since`, a cursor from before a restart or too
        /// old to answer exactly, or a burst the listener could not name.
        var all: Bool
    }

    func changes(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        try SessionRoutes.refuseUnknown(query, allowed: ["since", "wait"])
        var since: SessionChangeLog.Cursor?
        if let text = query["since"] {
            guard let cursor = SessionChangeLog.Cursor(text: String(text)) else {
                throw APIError.badParameter("since must be the cursor of an earlier answer, '<epoch>.<number>' (got '\(text.prefix(40))'); omit it to start")
            }
            since = cursor
        }
        let deadline = try SessionRoutes.waitDeadline(query, maxSeconds: configuration.maxWaitSeconds)
        var answer: (cursor: String, answer: SessionChangeLog.Answer)
        while true {
            // Register first: a change recorded after the read still wakes this request.
            let ticket = hub.register(ProgressHub.anyChange)
            answer = hub.changes(after: since)
            guard answer.answer == .unchanged, ContinuousClock.now < deadline else {
                hub.cancel(ticket)
                break
            }
            await hub.wait(ticket, until: deadline)
            if Task.isCancelled || Task.isShuttingDownGracefully {
                answer = hub.changes(after: since)
                break
            }
        }

        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        let body: Changes
        switch answer.answer {
        case .unchanged: body = Changes(cursor: answer.cursor, sessions: [], all: false)
        case .sessions(let ids): body = Changes(cursor: answer.cursor, sessions: ids, all: false)
        case .everything: body = Changes(cursor: answer.cursor, sessions: [], all: true)
        }
        return try JSONBody.response(.ok, body, headers: headers)
    }
}
