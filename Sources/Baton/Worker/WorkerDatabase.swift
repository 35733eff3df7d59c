/// The database calls a worker's loop makes, and nothing else: narrow, so that the loop can be
/// driven by a fake in unit tests while the integration tests use PostgreSQL. The worker makes
/// one call at a time, on the one direct connection that holds its session locks.
protocol WorkerDatabase: Sendable {
    /// Claims up to `limit` ready steps (and counts those skipped for a busy session lock).
    func claim(limit: Int) async throws(DatabaseError) -> Claimed
    /// Commits finished attempts and claims up to `limit` next steps, in one transaction.
    func finishAndClaim(_ outcomes: [StepOutcome], limit: Int) async throws(DatabaseError) -> (verdicts: [Int64: StepVerdict], claimed: Claimed)
    /// Commits finished attempts in one transaction.
    func finish(_ outcomes: [StepOutcome]) async throws(DatabaseError) -> [Int64: StepVerdict]
    /// Hands off steps that continue elsewhere (a handler's 202): `.deferred` or `.discarded` each.
    func handOff(_ outcomes: [StepOutcome]) async throws(DatabaseError) -> [Int64: StepVerdict]
    /// Says the worker is alive; returns the running tasks whose attempt is no longer this worker's.
    func heartbeat(running: [ClaimedStep]) async throws(DatabaseError) -> [Int64]
    /// Gives steps back unfinished, without spending their attempt; returns how many.
    func release(_ steps: [ClaimedStep]) async throws(DatabaseError) -> Int
    /// Closes the connection: its session locks go with it.
    func close() async
    /// Best effort, after `close`: the worker is gone, so no rescue waits for its silence.
    func stopped() async
}

/// `WorkerDatabase` on PostgreSQL: the claim connection (`DIRECT_URL`, prepared statements) for
/// the calls, and the pool for the goodbye.
struct PostgresWorkerDatabase: WorkerDatabase {
    let connection: DatabaseConnection
    let pool: ConnectionPool
    let workerID: String
    /// The kinds to claim; nil claims every kind.
    let kinds: [String]?
    let policy: RetryPolicy
    /// A handed-off step fails this long after its start unless finished from outside.
    let handOffTimeoutMs: Int

    func claim(limit: Int) async throws(DatabaseError) -> Claimed {
        try await connection.claimSteps(worker: workerID, limit: limit, kinds: kinds, policy: policy)
    }

    func finishAndClaim(_ outcomes: [StepOutcome], limit: Int) async throws(DatabaseError) -> (verdicts: [Int64: StepVerdict], claimed: Claimed) {
        try await connection.finishAndClaim(worker: workerID, outcomes, limit: limit, kinds: kinds, policy: policy)
    }

    func finish(_ outcomes: [StepOutcome]) async throws(DatabaseError) -> [Int64: StepVerdict] {
        try await connection.finishSteps(worker: workerID, outcomes)
    }

    func handOff(_ outcomes: [StepOutcome]) async throws(DatabaseError) -> [Int64: StepVerdict] {
        try await connection.deferSteps(worker: workerID, outcomes, timeoutMs: handOffTimeoutMs)
    }

    func heartbeat(running: [ClaimedStep]) async throws(DatabaseError) -> [Int64] {
        try await connection.heartbeat(worker: workerID, running: running)
    }

    func release(_ steps: [ClaimedStep]) async throws(DatabaseError) -> Int {
        try await connection.releaseSteps(worker: workerID, steps)
    }

    func close() async {
        await connection.close()
    }

    func stopped() async {
        _ = try? await pool.query(WorkerQueries.stopped, [workerID])
    }
}
