import Baton
import Foundation
import Synchronization
import Testing

/// The rescuer's rules (sql/functions/rescue_tasks.sql), driven through the SQL functions with real
/// connections: a worker's heartbeat is moved into the past instead of waiting for it to age.
@Suite struct RescueTests {
    /// A connection standing in for a worker: it claims the session's step (taking its session
    /// lock) and says it is alive.
    func claimAsWorker(_ db: TestDatabase, _ worker: String) async throws -> (DatabaseConnection, Int64) {
        let connection = DatabaseConnection(settings: db.directSettings, label: worker, preparedStatements: false)
        // A closed connection's backend lets go of its session lock as it exits, a moment later.
        let claimed = Mutex<Int64?>(nil)
        try await awaitValue("\(worker) to claim the step") {
            let rows = try await connection.query(
                "SELECT task_id FROM baton.claim_tasks($1, 1, NULL, 4, 10) WHERE NOT lock_busy", [worker]).rows
            claimed.withLock { $0 = rows.first?.first?.flatMap { Int64($0) } }
            return claimed.withLock { $0 } != nil
        }
        let task = try #require(claimed.withLock { $0 })
        try await connection.query("SELECT * FROM baton.heartbeat($1, '{}', '{}')", [worker])
        return (connection, task)
    }

    /// Closes a worker's connection and waits until its backend is gone, locks and all.
    func disconnect(_ db: TestDatabase, _ connection: DatabaseConnection) async throws {
        let pid = try #require(try await connection.query("SELECT pg_backend_pid()").rows.first?.first ?? nil)
        await connection.close()
        try await awaitValue("backend \(pid) to exit") {
            try await db.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", [pid]) == "0"
        }
    }

    func silence(_ db: TestDatabase, _ worker: String, seconds: Int) async throws {
        try await db.query("UPDATE baton.workers SET heartbeat_at = now() - make_interval(secs => $2::int) WHERE id = $1",
                           [worker, String(seconds)])
    }

    /// Silence is counted from the database's start at the earliest (a restart gives every
    /// worker time to come back), so a silence of `seconds` needs a server up that long.
    func awaitUptime(_ db: TestDatabase, seconds: Int) async throws {
        try await awaitValue("the database to be up \(seconds) s", timeout: Double(seconds) + 30) {
            try await db.scalar("SELECT now() - pg_postmaster_start_time() > make_interval(secs => $1::int)", [String(seconds)]) == "t"
        }
    }

    func rescue(_ db: TestDatabase, graceMs: Int = 1_000, staleMs: Int = 60_000) async throws -> [QueryResult.Record] {
        try await db.query("SELECT * FROM baton.rescue_tasks($1, $2)", [String(graceMs), String(staleMs)]).records
    }

    @Test func aWorkerWhoseLockIsGoneIsRescuedOnlyOnceItIsAlsoSilent() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession()
        let (worker, task) = try await claimAsWorker(db, "w-gone")
        try await disconnect(db, worker)  // the session lock goes with the connection

        // Lock free but heard from lately: it may be reconnecting with a result in hand.
        #expect(try await rescue(db, graceMs: 30_000).isEmpty)
        #expect(try await db.scalar("SELECT status FROM baton.tasks WHERE id = $1", [String(task)]) == "RUNNING")

        try await silence(db, "w-gone", seconds: 3)
        try await awaitUptime(db, seconds: 3)
        let rescued = try await rescue(db)
        #expect(rescued.map { $0["task_id"] } == [String(task)])
        #expect(rescued.first?["worker_id"] == "w-gone" && rescued.first?["outcome"] == "RETRY")
        #expect(try await db.scalar("SELECT status FROM baton.tasks WHERE id = $1", [String(task)]) == "PENDING")
        let history = try await db.query(
            "SELECT outcome, worker_id, error FROM baton.attempts WHERE session_id = $1", [id]).records
        #expect(history.count == 1 && history[0]["outcome"] == "RESCUED" && history[0]["worker_id"] == "w-gone")
        let error = history[0]["error"] ?? ""
        let prefix = "rescued: worker w-gone went away during the attempt (its session lock was released; no heartbeat for "
        #expect(error.hasPrefix(prefix), "\(history)")
        let silent = Double(error.dropFirst(prefix.count).prefix { $0 != " " }) ?? 0
        #expect(silent >= 3, "silent \(silent) s, at least the 3 s set")
        #expect(rescued.first?["reason"] == "lock released")
        #expect(try await rescue(db).isEmpty, "rescued once")
    }

    @Test func aLiveWorkerHoldingItsLockIsNeverRescued() async throws {
        let db = try await TestDatabase.create()
        _ = try await db.createSession()
        let (worker, task) = try await claimAsWorker(db, "w-live")
        defer { Task { await worker.close() } }
        try await silence(db, "w-live", seconds: 30)  // slow, but within the stale limit
        #expect(try await rescue(db, graceMs: 1_000, staleMs: 60_000).isEmpty)
        #expect(try await db.scalar("SELECT status FROM baton.tasks WHERE id = $1", [String(task)]) == "RUNNING")
        #expect(try await worker.query("SELECT 1").rows.count == 1, "its connection was left alone")
    }

    /// A half-open connection still holds the lock; past the stale limit the step is rescued and
    /// that backend is ended so the next attempt can take the session lock.
    @Test func aStaleWorkerIsRescuedEvenWithItsLockHeldAndItsBackendIsEnded() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession()
        let (worker, task) = try await claimAsWorker(db, "w-stale")
        try await silence(db, "w-stale", seconds: 3)
        try await awaitUptime(db, seconds: 3)
        let rescued = try await rescue(db, graceMs: 1_000, staleMs: 2_000)
        #expect(rescued.map { $0["task_id"] } == [String(task)])
        #expect(rescued.first?["reason"] == "stale")
        let error = try await db.scalar("SELECT error FROM baton.attempts WHERE session_id = $1", [id])
        #expect(error?.contains("its connection still held the session lock and was ended") == true, "\(error ?? "")")
        await #expect(throws: DatabaseError.self, "the stale backend was ended") { try await worker.query("SELECT 1") }

        // Another worker can now claim the session's step: its lock is free.
        let next = DatabaseConnection(settings: db.directSettings, label: "next", preparedStatements: false)
        defer { Task { await next.close() } }
        // (The ended backend lets go of its locks as it exits, a moment after its client hears.)
        try await awaitValue("the next attempt to be claimed") {
            let claimed = try await next.query(
                "SELECT task_id, attempt FROM baton.claim_tasks('w-next', 1, NULL, 4, 10) WHERE NOT lock_busy").records
            return claimed.first?["task_id"] == String(task) && claimed.first?["attempt"] == "2"
        }
    }

    @Test func spentAttemptsFailTheSession() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession()
        for attempt in 1...4 {
            let (worker, _) = try await claimAsWorker(db, "w-\(attempt)")
            try await disconnect(db, worker)
            try await silence(db, "w-\(attempt)", seconds: 3)
            try await awaitUptime(db, seconds: 3)
            #expect(try await rescue(db).first?["outcome"] == (attempt < 4 ? "RETRY" : "FAILED"))
        }
        #expect(try await db.status(id) == "FAILED")
        #expect(try await db.scalar("SELECT count(*) FROM baton.attempts WHERE session_id = $1 AND outcome = 'RESCUED'", [id]) == "4")
    }

    /// Only one process rescues at a time: while one holds the leader lock, another pass does nothing.
    @Test func oneRescuerAtATime() async throws {
        let db = try await TestDatabase.create()
        _ = try await db.createSession()
        let (worker, _) = try await claimAsWorker(db, "w-lead")
        try await disconnect(db, worker)
        try await silence(db, "w-lead", seconds: 3)
        try await awaitUptime(db, seconds: 3)

        let leader = DatabaseConnection(settings: db.directSettings, label: "leader", preparedStatements: false)
        defer { Task { await leader.close() } }
        try await leader.query("BEGIN")
        try await leader.query("SELECT pg_advisory_xact_lock(baton.lock_class() + 1, 1)")
        #expect(try await rescue(db).isEmpty, "another process leads")
        try await leader.query("COMMIT")
        #expect(try await rescue(db).count == 1)
    }

    /// The heartbeat names the steps that stopped being the worker's own.
    @Test func theHeartbeatNamesStepsThatAreNoLongerTheWorkers() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession()
        let (worker, task) = try await claimAsWorker(db, "w-hb")
        defer { Task { await worker.close() } }
        let ask = "SELECT task_id FROM baton.heartbeat('w-hb', ARRAY[$1::bigint], ARRAY[1])"
        #expect(try await worker.query(ask, [String(task)]).rows.isEmpty)
        _ = try await db.client.cancel(id)
        #expect(try await worker.query(ask, [String(task)]).rows.map { $0[0] } == [String(task)])
    }
}
