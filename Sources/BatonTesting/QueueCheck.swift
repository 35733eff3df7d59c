import Baton

/// A point in time to check what was queued after it. Sessions count as queued after the mark
/// when their creating transaction started at or after it (`baton.sessions.created_at` is
/// that transaction's start): take the mark, then do what should queue work.
public struct QueueMark: Sendable, Hashable, CustomStringConvertible {
    /// The server's clock at the mark (timestamptz text); nil for `beginning`.
    public let at: String?

    /// Every session the database holds counts.
    public static let beginning = QueueMark(at: nil)

    public var description: String { at == nil ? "ever" : "since the mark (\(at!))" }
}

/// Which sessions an expectation is about. Every field left nil matches anything; the JSON
/// fields match by containment (`@>`), like a partial match: `{"id": 7}` matches an input
/// `{"id": 7, "name": "x"}`.
public struct SessionMatch: Sendable, Hashable, CustomStringConvertible {
    public var kind: String?
    /// A JSON value the session's input must contain, as JSON text.
    public var inputContains: String?
    /// The coalescing key (a watched row's key).
    public var key: String?
    public var status: SessionStatus?
    /// A JSON value the session's origin must contain: `{"change": {"op": "update"}}` for a
    /// watch, `{"schedule": {"name": "nightly"}}` for a schedule.
    public var originContains: String?

    public init(kind: String? = nil, inputContains: String? = nil, key: String? = nil,
                status: SessionStatus? = nil, originContains: String? = nil) {
        self.kind = kind
        self.inputContains = inputContains
        self.key = key
        self.status = status
        self.originContains = originContains
    }

    /// "kind 'ingest', input containing {"id": 7}", or "any session".
    public var description: String {
        var parts: [String] = []
        if let kind { parts.append("kind '\(kind)'") }
        if let inputContains { parts.append("input containing \(inputContains)") }
        if let key { parts.append("key '\(key)'") }
        if let status { parts.append("status \(status.rawValue)") }
        if let originContains { parts.append("origin containing \(originContains)") }
        return parts.isEmpty ? "any session" : parts.joined(separator: ", ")
    }

    /// Refuses JSON filters that are not JSON, before PostgreSQL would with a vaguer message.
    func validated() throws -> SessionMatch {
        for (name, text) in [("inputContains", inputContains), ("originContains", originContains)] {
            guard let text else { continue }
            do {
                try JSONText.validate(text)
            } catch {
                throw BatonTestingError("\(name) is not valid JSON (\(error)): write the part to match as JSON text, for example {\"id\": 7}")
            }
        }
        return self
    }
}

/// What was queued: the sessions created since a mark, and expectations on them with
/// failure messages that list what was queued instead (for flows that create sessions from
/// data: watches, schedules, your own code calling `baton.create_session`).
public struct QueueCheck: Sendable {
    public var pool: ConnectionPool

    public init(pool: ConnectionPool) {
        self.pool = pool
    }

    /// Marks now, on the server's clock.
    public func mark() async throws -> QueueMark {
        QueueMark(at: try await pool.query(TestingQueries.mark).first?["at"])
    }

    /// The sessions created since `mark` that match, oldest first (at most `limit`).
    public func sessions(_ match: SessionMatch = SessionMatch(), since mark: QueueMark = .beginning,
                         limit: Int = 1000) async throws -> [Session] {
        let match = try match.validated()
        let ids = try await pool.query(TestingQueries.matching, [
            mark.at, match.kind, match.inputContains, match.key, match.status?.rawValue, match.originContains,
            String(max(1, limit)),
        ]).records.compactMap { $0["id"] }
        let client = BatonClient(pool: pool)
        var sessions: [Session] = []
        for id in ids {
            // A session pruned or deleted since the query is simply not there any more.
            if let session = try? await client.session(id) { sessions.append(session) }
        }
        return sessions
    }

    /// Requires at least one session (exactly `count`, when given) that matches to have been
    /// created since `mark`, and returns them. Throws a `BatonTestingError` that says what was
    /// expected and lists what was queued since the mark.
    @discardableResult
    public func expectQueued(_ match: SessionMatch, since mark: QueueMark = .beginning, count: Int? = nil) async throws -> [Session] {
        let found = try await sessions(match, since: mark)
        let ok = count.map { found.count == $0 } ?? !found.isEmpty
        if ok { return found }
        let wanted = count.map { "exactly \($0) session\($0 == 1 ? "" : "s")" } ?? "a session"
        var message = "expected \(wanted) with \(match) created \(mark), found \(found.count)"
        if !found.isEmpty { message += " (" + found.map(\.id).joined(separator: ", ") + ")" }
        throw BatonTestingError(message + ". " + (try await queuedSummary(since: mark)))
    }

    /// Requires that no session that matches was created since `mark`; the error lists the
    /// ones that were.
    public func expectNotQueued(_ match: SessionMatch, since mark: QueueMark = .beginning) async throws {
        let found = try await sessions(match, since: mark, limit: 20)
        guard !found.isEmpty else { return }
        let list = found.map { "\($0.id) [kind \($0.kind), \($0.status.rawValue)\($0.key.map { ", key \($0)" } ?? "")]" }
        throw BatonTestingError("expected no session with \(match) created \(mark), found \(found.count == 20 ? "20 or more" : String(found.count)): "
                                + list.joined(separator: "; "))
    }

    /// "Sessions created since the mark (3): a [kind ingest, PENDING, key 7, input {…}]; …".
    private func queuedSummary(since mark: QueueMark) async throws -> String {
        let rows = try await pool.query(TestingQueries.createdSince, [mark.at]).records
        guard let total = rows.first?["total"] else { return "No session was created \(mark)." }
        let list = rows.map { row in
            var text = "\(row["id"] ?? "?") [kind \(row["kind"] ?? "?"), \(row["status"] ?? "?")"
            if let key = row["key"] { text += ", key \(key)" }
            return text + ", input \(row["input"] ?? "null")]"
        }
        let more = (Int(total) ?? 0) > rows.count ? "; …" : ""
        return "Sessions created \(mark) (\(total)): " + list.joined(separator: "; ") + more
    }
}
