import Foundation

/// Sessions for programs: create, read, advance, retry, cancel, progress and stats, over a
/// connection pool. What the CLI uses, and what the HTTP API will use.
public struct BatonClient: Sendable {
    public let pool: ConnectionPool

    public init(pool: ConnectionPool) {
        self.pool = pool
    }

    /// Settings new sessions get unless they say otherwise (`AUTO_PROGRESS_*`).
    public struct Defaults: Sendable {
        public var autoSteps: Bool
        public var autoPhases: Bool
        public init(autoSteps: Bool = true, autoPhases: Bool = false) {
            self.autoSteps = autoSteps
            self.autoPhases = autoPhases
        }
    }

    /// Creates a session; its THINK step of phase 1 is queued at once. `inputJSON` must be JSON.
    public func createSession(phases: Int, inputJSON: String = "{}", id: String? = nil, kind: String? = nil,
                              autoSteps: Bool = true, autoPhases: Bool = false) async throws -> Session {
        do {
            try JSONText.validate(inputJSON)
        } catch {
            throw BatonError.badInput("the session input is not valid JSON: \(error)")
        }
        return try await session(from: run(SessionQueries.create, [
            String(phases), inputJSON, id, kind, PGText.bool(autoSteps), PGText.bool(autoPhases),
        ]))
    }

    /// Moves a session at the gate (AWAITING_PROCEED) into its next step, and records the
    /// review: `reviewer` (else the database user), an optional note and JSON payload, which the
    /// steps after the gate get in their document (`review`).
    public func proceed(_ id: String, note: String? = nil, payloadJSON: String? = nil,
                        reviewer: String? = nil) async throws -> Session {
        try await session(from: run(SessionQueries.proceed, [id, note, payloadJSON, reviewer]))
    }

    /// Resumes a FAILED session at its failed step, keeping earlier results.
    public func retry(_ id: String) async throws -> Session {
        try await session(from: run(SessionQueries.retry, [id]))
    }

    /// Cancels a session that is not COMPLETED or CANCELLED.
    public func cancel(_ id: String) async throws -> Session {
        try await session(from: run(SessionQueries.cancel, [id]))
    }

    /// Finishes a RUNNING step from outside the worker (a handler that answered 202) with its
    /// result; the session moves on as if the worker had committed it.
    public func completeTask(_ taskID: Int64, resultJSON: String) async throws -> Session {
        do {
            try JSONText.validate(resultJSON)
        } catch {
            throw BatonError.badInput("the result is not valid JSON: \(error)")
        }
        return try await session(from: run(SessionQueries.completeTask, [String(taskID), resultJSON]))
    }

    /// Fails the current attempt of a RUNNING step from outside the worker: it is retried with
    /// backoff, or the session FAILS when its attempts are spent.
    public func failTask(_ taskID: Int64, error message: String) async throws -> Session {
        try await session(from: run(SessionQueries.failTask, [String(taskID), message]))
    }

    /// What `/metrics` reads on each scrape: active tasks by status (cheap however long the
    /// history), ready tasks, and sessions by status.
    public func queueDepth() async throws -> QueueDepth {
        var depth = QueueDepth(sessionsByStatus: [:], tasksByStatus: [:], readyTasks: 0, awaitingProceed: 0)
        for row in try await run(SessionQueries.queueDepth).records {
            let n = try row.int("n")
            let key = row["key"] ?? ""
            switch row["what"] {
            case "session": depth.sessionsByStatus[key] = n
            case "task": depth.tasksByStatus[key] = n
            case "ready": depth.readyTasks = n
            default: break
            }
        }
        depth.awaitingProceed = depth.sessionsByStatus[SessionStatus.awaitingProceed.rawValue] ?? 0
        return depth
    }

    /// The session, or `BatonError.unknownSession`.
    public func session(_ id: String) async throws -> Session {
        let result = try await run(SessionQueries.get, [id])
        guard let row = result.first else { throw BatonError.unknownSession(id) }
        return try Self.decodeSession(row)
    }

    /// The session with its steps, results, errors and attempts.
    public func sessionDetail(_ id: String) async throws -> SessionDetail {
        // One snapshot for the reads, so steps, attempts and reviews agree with the session.
        let (session, steps, attempts, reviews): (QueryResult, QueryResult, QueryResult, QueryResult)
        do {
            (session, steps, attempts, reviews) = try await pool.withConnection { connection in
                try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                do {
                    let s = try await connection.query(SessionQueries.get, [id])
                    let t = try await connection.query(SessionQueries.steps, [id])
                    let a = try await connection.query(SessionQueries.attempts, [id])
                    let r = try await connection.query(SessionQueries.reviews, [id])
                    try await connection.query("COMMIT")
                    return (s, t, a, r)
                } catch {
                    _ = try? await connection.query("ROLLBACK")
                    throw error
                }
            }
        } catch {
            throw BatonError.from(error)
        }
        guard let row = session.first else { throw BatonError.unknownSession(id) }
        var attemptsByTask: [Int64: [AttemptRecord]] = [:]
        for a in attempts.records {
            attemptsByTask[try a.int64("task_id"), default: []].append(AttemptRecord(
                attempt: try a.int("attempt"), workerId: a["worker_id"], outcome: try a.string("outcome"),
                startedAt: a["started_at"], finishedAt: try a.string("finished_at"),
                input: try Self.json(a["input"]), output: try Self.json(a["output"]), error: a["error"]))
        }
        let stepRecords = try steps.records.map { t in
            let taskID = try t.int64("id")
            return StepRecord(
                taskId: taskID, phase: try t.int("phase"), step: Step(rawValue: try t.string("step")) ?? .think,
                status: TaskStatus(rawValue: try t.string("status")) ?? .pending, attempt: try t.int("attempt"),
                runAt: try t.string("run_at"), workerId: t["worker_id"], startedAt: t["started_at"],
                finishedAt: t["finished_at"], result: try Self.json(t["result"]), error: t["error"],
                attempts: attemptsByTask[taskID] ?? [])
        }
        let reviewRecords = try reviews.records.map { r in
            ReviewRecord(phase: try r.int("phase"), step: Step(rawValue: try r.string("step")) ?? .think,
                         reviewer: try r.string("reviewer"), note: r["note"], payload: try Self.json(r["payload"]),
                         at: try r.string("created_at"))
        }
        let decoded = try Self.decodeSession(row)
        return SessionDetail(session: decoded, progress: decoded.progress, steps: stepRecords, reviews: reviewRecords)
    }

    /// A page of sessions, newest first. Pass the previous page's `nextCursor` (a
    /// `SessionCursor`'s text) to continue.
    public func listSessions(status: SessionStatus? = nil, kind: String? = nil, limit: Int = 50,
                             after cursor: String? = nil) async throws -> (sessions: [Session], nextCursor: String?) {
        var position: SessionCursor?
        if let cursor {
            guard let parsed = SessionCursor(text: cursor) else {
                throw BatonError.badInput("the cursor is not one this server issued (a nextCursor is microseconds, '-', "
                                          + "the id's UTF-8 in hex; got '\(cursor.prefix(40))'); start again without it")
            }
            position = parsed
        }
        let bounded = min(max(limit, 1), 1000)
        let result: QueryResult
        do {
            result = try await pool.query(SessionQueries.list, [
                status?.rawValue, kind, position.map { String($0.microseconds) }, position?.id, String(bounded),
            ])
        } catch {
            throw BatonError.from(error)
        }
        let sessions = try result.records.map(Self.decodeSession)
        var next: String?
        if sessions.count == bounded, let last = result.records.last {
            next = SessionCursor(microseconds: try last.int64("created_us"), id: try last.string("id")).text
        }
        return (sessions, next)
    }

    /// The session's derived progress.
    public func progress(_ id: String) async throws -> SessionProgress {
        try await session(id).progress
    }

    /// Succeeds when the database answers `SELECT 1`.
    public func ping() async throws {
        _ = try await run(SessionQueries.ping)
    }

    /// One statement; Baton's SQLSTATEs become `BatonError`s.
    func run(_ sql: String, _ parameters: [String?] = []) async throws -> QueryResult {
        do {
            return try await pool.query(sql, parameters)
        } catch {
            throw BatonError.from(error)
        }
    }

    func session(from result: QueryResult) throws -> Session {
        guard let row = result.first else { throw DatabaseError.protocolViolation("no session returned") }
        return try Self.decodeSession(row)
    }

    static func decodeSession(_ row: QueryResult.Record) throws -> Session {
        guard let status = SessionStatus(rawValue: try row.string("status")) else {
            throw DatabaseError.protocolViolation("unknown session status")
        }
        return Session(
            id: try row.string("id"), kind: try row.string("kind"), status: status, phase: try row.int("phase"),
            step: row["step"].flatMap(Step.init(rawValue:)), totalPhases: try row.int("total_phases"),
            autoSteps: row.bool("auto_steps"), autoPhases: row.bool("auto_phases"),
            input: try json(row["input"]) ?? .null, error: row["error"], version: try row.int64("version"),
            createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at"),
            key: row["key"], origin: try json(row["origin"]))
    }

    static func json(_ text: String?) throws -> JSONValue? {
        guard let text else { return nil }
        return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }
}

/// Errors a client can act on, mapped from Baton's SQLSTATEs.
public enum BatonError: Error, Sendable, CustomStringConvertible {
    case unknownSession(String)
    case unknown(String)
    case wrongState(String)
    case badInput(String)
    case invalidTransition(String)

    public var description: String {
        switch self {
        case .unknownSession(let id): "unknown session '\(id)'"
        case .unknown(let message), .wrongState(let message), .badInput(let message), .invalidTransition(let message): message
        }
    }

    /// Maps a database error with a Baton SQLSTATE to a `BatonError`; others pass through.
    public static func from(_ error: any Error) -> any Error {
        guard let db = error as? DatabaseError, case .server(let state, let message, _, _) = db else { return error }
        switch state {
        case DatabaseError.unknownSQLState: return BatonError.unknown(message)
        case DatabaseError.wrongStateSQLState: return BatonError.wrongState(message)
        // 22P02/22023: a value of the wrong form; 22021: a NUL or invalid byte in text;
        // 22007/22008: a date, time or interval that does not read or is out of range.
        case DatabaseError.badArgumentSQLState, "22P02", "22023", "22021", "22007", "22008": return BatonError.badInput(message)
        case DatabaseError.invalidTransitionSQLState: return BatonError.invalidTransition(message)
        default: return error
        }
    }
}
