/// A step this worker claimed and now runs.
struct ClaimedStep: Sendable, Hashable {
    var context: StepContext
    /// The attempt number within the current retry budget (what the retry policy counts).
    var budgetAttempt: Int
    /// The worker connection's generation at claim time: the session lock lives only as long
    /// as that connection.
    var generation: Int
}

/// Steps a claim returned, and how many ready steps it skipped because their session lock was
/// busy elsewhere.
struct Claimed: Sendable, Equatable {
    var steps: [ClaimedStep] = []
    var lockBusy = 0

    mutating func add(_ rows: [QueryResult.Record], generation: Int) throws(DatabaseError) {
        for row in rows {
            if row.bool("lock_busy") { lockBusy += 1; continue }
            guard let step = Step(rawValue: try row.string("step")) else {
                throw .protocolViolation("claimed task has an unknown step")
            }
            let context = StepContext(
                taskId: try row.int64("task_id"), sessionId: try row.string("session_id"),
                kind: try row.string("kind"), phase: try row.int("phase"),
                totalPhases: try row.int("total_phases"), step: step, attempt: try row.int("attempt"),
                inputJSON: try row.string("input"), previousJSON: try row.string("previous"),
                originJSON: row["origin"])
            steps.append(ClaimedStep(context: context, budgetAttempt: try row.int("budget_attempt"), generation: generation))
        }
    }
}

/// How an attempt ended, ready to be committed.
struct StepOutcome: Sendable, Equatable {
    enum Result: Sendable, Equatable {
        case succeeded(json: String)
        /// `retryDelayMs` nil: the session FAILS; otherwise the step runs again after it.
        case failed(message: String, retryDelayMs: Int?)
        /// The step continues elsewhere (see `StepDeferred`) and stays RUNNING without a worker.
        case deferred(reason: String)

        var isDeferred: Bool {
            if case .deferred = self { return true }
            return false
        }
    }
    var taskId: Int64
    var sessionId: String
    var kind: String
    var step: Step
    var attempt: Int
    var generation: Int
    var result: Result
    var startedAt: String
    var finishedAt: String
    var inputJSON: String
    /// How long the handler ran, for the step duration metric.
    var durationNanoseconds: Int64 = 0
}

/// What a commit made of one finished attempt: the `outcome` column of baton.finish_tasks,
/// baton.finish_and_claim (`finished_outcome`) and baton.defer_tasks, read here and nowhere else.
enum StepVerdict: String, Sendable, CaseIterable {
    /// The result was applied.
    case succeeded = "SUCCEEDED"
    /// The attempt failed and the step runs again after its delay.
    case retry = "RETRY"
    /// The attempt failed and the session FAILED (permanent, or no retries left).
    case failed = "FAILED"
    /// Recorded, not applied: the session was cancelled or the step was handed on (fencing).
    case discarded = "DISCARDED"
    /// Handed off (202): the step stays RUNNING without a worker until finished from outside.
    case deferred = "DEFERRED"

    /// The column's text; an outcome this binary does not know is a schema from another version.
    init(column text: String) throws(DatabaseError) {
        guard let verdict = StepVerdict(rawValue: text) else {
            throw .protocolViolation("the database returned an unknown step outcome '\(text)'")
        }
        self = verdict
    }
}

/// The worker's statements: prepared once on its direct connection (see sql/functions/claim_tasks.sql, finish_tasks.sql, …).
enum WorkerQueries {
    static let claim = Statement(
        "baton_claim_tasks",
        "SELECT * FROM baton.claim_tasks($1, $2::int, $3::text[], $4::int, $5::int)")
    static let finish = Statement(
        "baton_finish_tasks",
        """
        SELECT * FROM baton.finish_tasks($1, $2::bigint[], $3::int[], $4::boolean[], $5::jsonb[], \
        $6::text[], $7::int[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[], $11::boolean[])
        """)
    static let finishAndClaim = Statement(
        "baton_finish_and_claim",
        """
        SELECT * FROM baton.finish_and_claim($1, $2::bigint[], $3::int[], $4::boolean[], $5::jsonb[], \
        $6::text[], $7::int[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[], $11::boolean[], \
        $12::int, $13::text[], $14::int, $15::int)
        """)
    static let deferTasks = Statement(
        "baton_defer_tasks",
        "SELECT * FROM baton.defer_tasks($1, $2::bigint[], $3::int[], $4::int, $5::boolean[])")
    static let release = Statement(
        "baton_release_tasks",
        "SELECT baton.release_tasks($1, $2::bigint[], $3::int[], $4::boolean[]) AS released")
    static let heartbeat = Statement(
        "baton_heartbeat", "SELECT task_id FROM baton.heartbeat($1, $2::bigint[], $3::int[])")
    /// Runs on a pooled connection: the function takes its own transaction-level leader lock.
    static let rescue = "SELECT * FROM baton.rescue_tasks($1::int, $2::int)"
    static let stopped = "SELECT baton.worker_stopped($1)"
}

extension DatabaseConnection {
    /// Claims up to `limit` ready steps; returns them and how many were skipped because their
    /// session lock was busy.
    func claimSteps(worker: String, limit: Int, kinds: [String]?, policy: RetryPolicy) throws(DatabaseError) -> Claimed {
        let result = try execute(WorkerQueries.claim, [
            worker, String(limit), kinds.map { PGText.array($0.map(Optional.some)) },
            String(policy.maxAttempts), String(policy.baseDelayMs),
        ])
        var claimed = Claimed()
        try claimed.add(result.records, generation: generation)
        return claimed
    }

    /// Commits finished attempts and claims up to `limit` ready steps, in one transaction.
    func finishAndClaim(worker: String, _ outcomes: [StepOutcome], limit: Int, kinds: [String]?,
                        policy: RetryPolicy) throws(DatabaseError) -> (verdicts: [Int64: StepVerdict], claimed: Claimed) {
        let generation = self.generation
        let result = try execute(WorkerQueries.finishAndClaim, Self.finishParameters(worker, outcomes, generation: generation) + [
            String(limit), kinds.map { PGText.array($0.map(Optional.some)) },
            String(policy.maxAttempts), String(policy.baseDelayMs),
        ])
        var finished: [Int64: StepVerdict] = [:]
        var claimRows: [QueryResult.Record] = []
        for row in result.records {
            if row["finished_task_id"] != nil {
                finished[try row.int64("finished_task_id")] = try StepVerdict(column: try row.string("finished_outcome"))
            } else {
                claimRows.append(row)
            }
        }
        var claimed = Claimed()
        try claimed.add(claimRows, generation: generation)
        return (finished, claimed)
    }

    /// Commits finished attempts in one transaction; returns what became of each task's attempt.
    func finishSteps(worker: String, _ outcomes: [StepOutcome]) throws(DatabaseError) -> [Int64: StepVerdict] {
        try Self.verdicts(execute(WorkerQueries.finish, Self.finishParameters(worker, outcomes, generation: generation)))
    }

    /// (task_id, outcome) rows as a map.
    static func verdicts(_ result: QueryResult) throws(DatabaseError) -> [Int64: StepVerdict] {
        var out: [Int64: StepVerdict] = [:]
        for row in result.records { out[try row.int64("task_id")] = try StepVerdict(column: try row.string("outcome")) }
        return out
    }

    /// The eleven array parameters of baton.finish_tasks.
    static func finishParameters(_ worker: String, _ outcomes: [StepOutcome], generation: Int) -> [String?] {
        var ok: [Bool] = [], results: [String?] = [], errors: [String?] = [], delays: [Int?] = []
        for outcome in outcomes {
            switch outcome.result {
            case .succeeded(let json):
                ok.append(true); results.append(json); errors.append(nil); delays.append(nil)
            case .failed(let message, let delay):
                ok.append(false); results.append(nil); errors.append(message); delays.append(delay)
            case .deferred(let reason):
                preconditionFailure("a deferred step (\(reason)) is handed off with deferSteps, not finished")
            }
        }
        return [
            worker,
            PGText.array(outcomes.map(\.taskId)),
            PGText.array(outcomes.map(\.attempt)),
            PGText.array(ok),
            PGText.array(results),
            PGText.array(errors),
            PGText.array(delays),
            PGText.array(outcomes.map { Optional($0.startedAt) }),
            PGText.array(outcomes.map { Optional($0.finishedAt) }),
            PGText.array(outcomes.map { Optional($0.inputJSON) }),
            // Only locks taken on this very connection are still held.
            PGText.array(outcomes.map { $0.generation == generation }),
        ]
    }

    /// Hands off steps whose handler said they continue elsewhere: they stay RUNNING, their
    /// session locks are released, and they fail `timeoutMs` after their start unless finished.
    /// Returns `.deferred` or `.discarded` for each task.
    func deferSteps(worker: String, _ outcomes: [StepOutcome], timeoutMs: Int) throws(DatabaseError) -> [Int64: StepVerdict] {
        let generation = self.generation
        let result = try execute(WorkerQueries.deferTasks, [
            worker,
            PGText.array(outcomes.map(\.taskId)),
            PGText.array(outcomes.map(\.attempt)),
            String(timeoutMs),
            PGText.array(outcomes.map { $0.generation == generation }),
        ])
        return try Self.verdicts(result)
    }

    /// Says the worker is alive, on the connection that holds its session locks; returns the
    /// running steps that are no longer its current attempt (rescued, cancelled, handed on).
    func heartbeat(worker: String, running: [ClaimedStep]) throws(DatabaseError) -> [Int64] {
        let result = try execute(WorkerQueries.heartbeat, [
            worker, PGText.array(running.map(\.context.taskId)), PGText.array(running.map(\.context.attempt)),
        ])
        var lost: [Int64] = []
        for row in result.records { lost.append(try row.int64("task_id")) }
        return lost
    }

    /// Gives steps back unfinished, without spending their attempt.
    func releaseSteps(worker: String, _ steps: [ClaimedStep]) throws(DatabaseError) -> Int {
        let generation = self.generation
        let result = try execute(WorkerQueries.release, [
            worker,
            PGText.array(steps.map(\.context.taskId)),
            PGText.array(steps.map(\.context.attempt)),
            PGText.array(steps.map { $0.generation == generation }),
        ])
        return (try? result.first?.int("released")) ?? 0
    }
}
