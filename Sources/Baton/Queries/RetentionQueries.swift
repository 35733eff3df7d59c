import BatonCore

/// Retention (sql/functions/prune_sessions.sql, prunable_sessions.sql): the policy's seconds
/// become the functions' intervals here, and nowhere else.
enum RetentionQueries {
    private static let rules = """
        $1::int * interval '1 second', $2::text[],
        (SELECT coalesce(array_agg(u.seconds * interval '1 second' ORDER BY u.i), '{}')
         FROM unnest($3::int[]) WITH ORDINALITY u(seconds, i))
        """
    static let prune = "SELECT baton.prune_sessions(\(rules), $4::int) AS pruned"
    static let prunable = "SELECT * FROM baton.prunable_sessions(\(rules))"

    /// The three rule parameters ($1 to $3) of both statements.
    static func parameters(_ policy: RetentionPolicy) -> [String?] {
        let kinds = policy.kinds.keys.sorted()
        return [policy.defaultSeconds.map(String.init), PGText.array(kinds), PGText.array(kinds.map { policy.kinds[$0] ?? nil })]
    }
}

/// One batch of `baton.prune_sessions`.
public enum PruneBatch: Sendable, Equatable {
    /// This many sessions (with their tasks and attempts) were deleted.
    case pruned(Int)
    /// Another process holds the pruner's turn.
    case busy
}

/// What `baton prune --dry-run` reports for one kind.
public struct PrunableKind: Sendable, Equatable {
    public var kind: String
    public var sessions: Int64
    public var tasks: Int64
    public var attempts: Int64
    /// The oldest last change among those sessions, as PostgreSQL prints it.
    public var oldest: String
}

extension ConnectionPool {
    /// Deletes one batch of sessions past their retention, in its own transaction.
    public func pruneBatch(_ policy: RetentionPolicy, batchSize: Int) async throws -> PruneBatch {
        let row = try await query(RetentionQueries.prune, RetentionQueries.parameters(policy) + [String(batchSize)]).records.first
        guard let text = row?["pruned"] else { return .busy }
        guard let count = Int(text) else { throw DatabaseError.protocolViolation("prune_sessions returned '\(text)'") }
        return .pruned(count)
    }

    /// Deletes everything past retention, batch by batch, until a batch comes back short or
    /// another process has the turn. After each full batch it rests `restFactor` times as long
    /// as the batch took, so that a large prune (the first one on an old database) leaves most
    /// of the database's time to the steps. Returns the sessions deleted and whether another
    /// process had the turn.
    public func pruneAll(_ policy: RetentionPolicy, batchSize: Int, restFactor: Double = 1) async throws -> (pruned: Int, busy: Bool) {
        var total = 0
        while !Task.isCancelled {
            let started = ContinuousClock.now
            switch try await pruneBatch(policy, batchSize: batchSize) {
            case .busy:
                return (total, true)
            case .pruned(let count):
                total += count
                if count < batchSize { return (total, false) }
            }
            try await Task.sleep(for: (ContinuousClock.now - started) * restFactor)
        }
        return (total, false)
    }

    /// What would be deleted now, per kind.
    public func prunable(_ policy: RetentionPolicy) async throws -> [PrunableKind] {
        try await query(RetentionQueries.prunable, RetentionQueries.parameters(policy)).records.map { row in
            PrunableKind(kind: try row.string("kind"), sessions: try row.int64("sessions"), tasks: try row.int64("tasks"),
                         attempts: try row.int64("attempts"), oldest: try row.string("oldest"))
        }
    }
}
