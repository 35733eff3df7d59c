import Baton
import BatonCore
import Foundation
import Hummingbird

/// `/api/sessions…`: create, list, show, live progress, and the actions on a session.
struct SessionRoutes: Sendable {
    let client: BatonClient
    let hub: ProgressHub
    let configuration: APIConfiguration

    static let createFields: Set<String> = ["phases", "input", "id", "kind", "autoSteps", "autoPhases"]

    func create(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let body = try await JSONBody.text(of: request, limit: configuration.maxBodyBytes)
        let fields = try JSONBody.object(body, allowed: Self.createFields)
        guard let phases = try fields.int("phases", in: 1...1000) else {
            throw APIError.badParameter("field 'phases' is required: the number of phases, 1 to 1000")
        }
        let session: Session
        do {
            session = try await client.createSession(
                phases: phases, inputJSON: try fields.storable("input") ?? "{}", id: try fields.string("id"),
                kind: try fields.string("kind"), autoSteps: try fields.bool("autoSteps") ?? configuration.autoSteps,
                autoPhases: try fields.bool("autoPhases") ?? configuration.autoPhases)
        } catch BatonError.wrongState(let message) {
            // baton.create_session raises BT409 for one thing only: the id is taken. That is a
            // clash with another resource (409 conflict), not a session in the wrong state.
            throw APIError(.conflict, "conflict", message + "; choose another id, or omit it to get a generated one")
        }
        var headers = HTTPFields()
        headers[.location] = "/api/sessions/" + Self.pathEscaped(session.id)
        return try JSONBody.response(.created, session, headers: headers)
    }

    /// A page of sessions, newest first.
    struct Page: Encodable {
        var sessions: [Session]
        var nextCursor: String?
    }

    func list(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        try Self.refuseUnknown(query, allowed: ["status", "kind", "limit", "cursor"])
        var status: SessionStatus?
        if let text = query["status"].map(String.init) {
            guard let parsed = SessionStatus(rawValue: text.uppercased()) else {
                throw APIError.badParameter("unknown status '\(text)'; use one of \(SessionStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        var limit = 50
        if let text = query["limit"] {
            guard let parsed = Int(text), (1...1000).contains(parsed) else {
                throw APIError.badParameter("limit must be a whole number from 1 to 1000 (got '\(text)')")
            }
            limit = parsed
        }
        let page = try await client.listSessions(
            status: status, kind: query["kind"].map(String.init), limit: limit, after: query["cursor"].map(String.init))
        return try JSONBody.response(.ok, Page(sessions: page.sessions, nextCursor: page.nextCursor))
    }

    func show(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try JSONBody.response(.ok, try await client.sessionDetail(try Self.id(context)))
    }

    /// The progress; with `wait`, held until its version differs from the caller's (`since`
    /// or `If-None-Match`) or the wait ends. `If-None-Match` that still matches then gets 304.
    func progress(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try Self.id(context)
        let query = request.uri.queryParameters
        try Self.refuseUnknown(query, allowed: ["wait", "since"])
        var seen: Int64?
        if let text = query["since"] {
            guard let version = Int64(text) else {
                throw APIError.badParameter("since must be a progress version, a whole number (got '\(text)')")
            }
            seen = version
        }
        let conditional = request.headers[.ifNoneMatch].map(Self.versions(inETags:))
        if seen == nil, let versions = conditional, versions.count == 1 { seen = versions.first }
        let deadline = try Self.waitDeadline(query, maxSeconds: configuration.maxWaitSeconds)
        var progress: SessionProgress
        while true {
            // Register first: a change committed after the read still wakes this request.
            let ticket = hub.register(id)
            do {
                progress = try await client.progress(id)
            } catch {
                hub.cancel(ticket)
                throw error
            }
            guard let seen, progress.version == seen, ContinuousClock.now < deadline else {
                hub.cancel(ticket)
                break
            }
            if hub.isListening {
                await hub.wait(ticket, until: deadline)
            } else {
                // No LISTEN connection right now (it is reconnecting): look again each second.
                await hub.wait(ticket, until: min(deadline, ContinuousClock.now + .seconds(1)))
            }
            if Task.isCancelled || Task.isShuttingDownGracefully {
                progress = try await client.progress(id)
                break
            }
        }

        var headers = HTTPFields()
        headers[.eTag] = "\"\(progress.version)\""
        headers[.cacheControl] = "no-store"
        if let conditional, conditional.contains(progress.version) {
            return Response(status: .notModified, headers: headers)
        }
        return try JSONBody.response(.ok, progress, headers: headers)
    }

    /// The optional body is the review: `note`, `payload` (any storable JSON) and `reviewer`
    /// (default `api`), kept in the session's history and handed to the next steps.
    func proceed(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let fields = try JSONBody.object(try await JSONBody.text(of: request, limit: configuration.maxBodyBytes),
                                         allowed: ["note", "payload", "reviewer"])
        let session = try await client.proceed(
            try Self.id(context), note: try fields.string("note", maxLength: 10_000),
            payloadJSON: try fields.storable("payload"), reviewer: try fields.string("reviewer") ?? "api")
        return try JSONBody.response(.ok, session)
    }

    func retry(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try await Self.requireNoBody(request, limit: configuration.maxBodyBytes)
        return try JSONBody.response(.ok, try await client.retry(try Self.id(context)))
    }

    func cancel(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try await Self.requireNoBody(request, limit: configuration.maxBodyBytes)
        return try JSONBody.response(.ok, try await client.cancel(try Self.id(context)))
    }

    // MARK: helpers

    static func id(_ context: some RequestContext) throws -> String {
        // Path parameters arrive percent-encoded: a client sends "a b" as "a%20b".
        guard let raw = context.parameters.get("id"), let id = raw.removingPercentEncoding, !id.isEmpty else {
            throw APIError.badParameter("the session id in the path is missing or not valid percent-encoding")
        }
        return id
    }

    /// Actions take no fields; a body, if any, must be an empty JSON object.
    static func requireNoBody(_ request: Request, limit: Int) async throws {
        _ = try JSONBody.object(try await JSONBody.text(of: request, limit: limit), allowed: [])
    }

    /// When a long-poll gives up: now plus the `wait` query parameter (0 to `maxSeconds`, 0 if absent).
    static func waitDeadline(_ query: Parameters, maxSeconds: Double) throws -> ContinuousClock.Instant {
        var waitSeconds = 0.0
        if let text = query["wait"] {
            guard let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= maxSeconds else {
                throw APIError.badParameter("wait must be a number of seconds from 0 to \(Int(maxSeconds)) (got '\(text)')")
            }
            waitSeconds = seconds
        }
        return ContinuousClock.now + .milliseconds(Int64(waitSeconds * 1000))
    }

    static func refuseUnknown(_ query: Parameters, allowed: Set<String>) throws {
        for (key, _) in query where !allowed.contains(String(key)) {
            throw APIError.badParameter("unknown query parameter '\(key)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    /// The versions named in an `If-None-Match` list (`"12"`, `W/"12"`, `"12", "13"`).
    static func versions(inETags header: String) -> Set<Int64> {
        Set(header.split(separator: ",").compactMap { tag in
            var text = tag.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("W/") { text.removeFirst(2) }
            return Int64(text.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        })
    }

    static func pathEscaped(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }
}
