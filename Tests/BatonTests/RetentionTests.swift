import Baton
import Foundation
import Testing

/// Retention against a real PostgreSQL: which finished sessions go, with their tasks and
/// attempts, which stay, and that one process at a time prunes in short batches.
// Serialized: each test runs workers and handler processes; one at a time keeps the suite
// from crowding a small machine while the other suites run.
@Suite(.serialized) struct RetentionTests {
    /// Sessions of every kind of interest, finished by a real worker (or failed, cancelled,
    /// parked), then aged by `days` since their last change.
    private struct Fixture {
        var db: TestDatabase
        var ids: [String: String] = [:]

        static func make() async throws -> Fixture {
            var f = Fixture(db: try await TestDatabase.create())
            let db = f.db
            // 2 phases with the gate: the first stops at AWAITING_PROCEED; the others finish.
            for name in ["completed", "recent", "reports", "scratch"] {
                f.ids[name] = try await db.createSession(kind: name == "reports" || name == "scratch" ? name : "default")
            }
            f.ids["parked"] = try await db.createSession(phases: 2)
            let started = f.ids
            try await withWorker(db) {
                for name in ["completed", "recent", "reports", "scratch"] { try await db.awaitStatus(started[name]!, .completed) }
                try await db.awaitStatus(started["parked"]!, .awaitingProceed)
            }
            f.ids["cancelled"] = try await db.createSession()
            _ = try await db.client.cancel(f.ids["cancelled"]!)
            // FAILED: claimed with one attempt allowed, then failed from outside.
            f.ids["failed"] = try await db.createSession(kind: "doomed")
            let claimer = DatabaseConnection(settings: db.directSettings, label: "claimer", preparedStatements: false)
            let task = try #require(try await claimer.query(
                "SELECT task_id FROM baton.claim_tasks('w-test', 1, ARRAY['doomed'], 1, 0)").rows.first?[0] ?? nil)
            _ = try await claimer.query("SELECT baton.fail_task($1::bigint, 'boom')", [task])
            await claimer.close()
            #expect(try await db.status(f.ids["failed"]!) == "FAILED")
            // Age everything but "recent": the last change 20 days ago, "scratch" 2 days ago.
            for (name, days) in [("completed", 20), ("reports", 20), ("scratch", 2), ("parked", 20), ("cancelled", 20), ("failed", 20)] {
                try await f.age(name, days: days)
            }
            return f
        }

        func age(_ name: String, days: Int) async throws {
            // version moves, so sessions_touch leaves updated_at as set here.
            _ = try await db.query("""
                UPDATE baton.sessions SET created_at = now() - $2::int * interval '1 day' - interval '1 hour',
                       updated_at = now() - $2::int * interval '1 day', version = version + 1
                WHERE id = $1
                """, [ids[name]!, String(days)])
        }

        func exists(_ name: String) async throws -> Bool {
            try await db.scalar("SELECT count(*) FROM baton.sessions WHERE id = $1", [ids[name]!]) == "1"
        }

        /// Tasks and attempts of sessions that no longer exist.
        func orphans() async throws -> String? {
            try await db.scalar("""
                SELECT (SELECT count(*) FROM baton.tasks k WHERE NOT EXISTS (SELECT 1 FROM baton.sessions s WHERE s.id = k.session_id))
                     + (SELECT count(*) FROM baton.attempts a WHERE NOT EXISTS (SELECT 1 FROM baton.tasks k WHERE k.id = a.task_id))
                """)
        }
    }

    private let policy = try! RetentionPolicy(parsing: "14d,reports=90d,scratch=1d")

    @Test func finishedSessionsPastTheirKindsRetentionGoWithTheirTasksAndAttempts() async throws {
        let f = try await Fixture.make()
        let tasksBefore = try await f.db.scalar("SELECT count(*) FROM baton.tasks WHERE session_id = $1", [f.ids["completed"]!])
        #expect(tasksBefore == "3")

        // The dry run counts exactly what goes, and deletes nothing.
        let prunable = try await f.db.pool.prunable(policy)
        #expect(prunable.map(\.kind) == ["default", "doomed", "scratch"])
        #expect(prunable.map(\.sessions) == [2, 1, 1])  // completed + cancelled, failed, scratch
        #expect(prunable.map(\.tasks) == [4, 1, 3])     // 3 + 1 (a cancelled session keeps its queued task), 1, 3
        #expect(prunable.map(\.attempts) == [3, 1, 3])
        #expect(try await f.exists("completed"))

        // Batches of 1: the pass goes on while batches come back full.
        var batches: [PruneBatch] = []
        repeat {
            batches.append(try await f.db.pool.pruneBatch(policy, batchSize: 1))
        } while batches.last == .pruned(1)
        #expect(batches == [.pruned(1), .pruned(1), .pruned(1), .pruned(1), .pruned(0)])

        for gone in ["completed", "cancelled", "failed", "scratch"] { #expect(!(try await f.exists(gone)), "\(gone) was pruned") }
        for kept in ["recent", "reports", "parked"] { #expect(try await f.exists(kept), "\(kept) is kept") }
        #expect(try await f.orphans() == "0")
        #expect(try await f.db.scalar("SELECT count(*) FROM baton.parked_sessions WHERE session_id = $1", [f.ids["failed"]!]) == "0")
        // What stayed still works: the parked session goes through the gate to the end.
        _ = try await f.db.client.proceed(f.ids["parked"]!)
        try await withWorker(f.db) { try await f.db.awaitStatus(f.ids["parked"]!, .completed) }
    }

    @Test func onePrunerAtATimeAndLockedSessionsAreSkippedNotWaitedFor() async throws {
        let f = try await Fixture.make()
        let other = DatabaseConnection(settings: f.db.directSettings, label: "other", preparedStatements: false)
        defer { Task { await other.close() } }
        try await other.query("BEGIN")
        try await other.query("SELECT pg_advisory_xact_lock(baton.lock_class() + 1, 2)")
        #expect(try await f.db.pool.pruneBatch(policy, batchSize: 100) == .busy)
        try await other.query("ROLLBACK")

        // A session someone holds (a retry deciding, say) is left for the next pass.
        try await other.query("BEGIN")
        try await other.query("SELECT 1 FROM baton.sessions WHERE id = $1 FOR UPDATE", [f.ids["failed"]!])
        #expect(try await f.db.pool.pruneBatch(policy, batchSize: 100) == .pruned(3))
        #expect(try await f.exists("failed"))
        try await other.query("COMMIT")
        #expect(try await f.db.pool.pruneBatch(policy, batchSize: 100) == .pruned(1))
        #expect(!(try await f.exists("failed")))
    }

    @Test func offKeepsEverythingAndAKindCanBeKeptForever() async throws {
        let f = try await Fixture.make()
        #expect(try await f.db.pool.pruneBatch(try RetentionPolicy(parsing: "off"), batchSize: 100) == .pruned(0))
        // Without its own rule, "reports" (20 days old) falls under the 14-day default.
        let keepScratch = try RetentionPolicy(parsing: "14d,scratch=off,doomed=off")
        #expect(try await f.db.pool.prunable(keepScratch).map(\.kind) == ["default", "reports"])
        #expect(try await f.db.pool.pruneBatch(keepScratch, batchSize: 100) == .pruned(3))
        for kept in ["scratch", "failed", "recent", "parked"] { #expect(try await f.exists(kept), "\(kept) is kept") }
        #expect(!(try await f.exists("reports")))
    }

    @Test func aWorkerPrunesOnItsOwn() async throws {
        let f = try await Fixture.make()
        var configuration = testConfiguration()
        configuration.retention = policy
        configuration.pruneIntervalMs = 50
        try await withWorker(f.db, configuration: configuration) {
            try await awaitValue("the worker's pruner to delete the four sessions past retention") {
                try await f.db.scalar("SELECT count(*) FROM baton.sessions") == "3"
            }
        }
        for kept in ["recent", "reports", "parked"] { #expect(try await f.exists(kept)) }
        #expect(try await f.orphans() == "0")
    }

    @Test func theCommandLineSaysWhatWouldGoThenDeletesIt() async throws {
        let f = try await Fixture.make()
        var environment = f.db.environment
        environment["BATON_RETENTION"] = "14d,reports=90d,scratch=1d"
        let dry = try await runBaton(["prune", "--dry-run"], environment: environment)
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.output.contains("default: 2 sessions, 4 tasks, 3 attempts"), "\(dry.output)")
        #expect(dry.output.contains("scratch: 1 session, 3 tasks, 3 attempts"), "\(dry.output)")
        #expect(try await f.exists("completed"))

        let run = try await runBaton(["prune", "--batch-size", "2"], environment: environment)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("deleted 4 finished sessions"), "\(run.output)")
        #expect(try await f.db.scalar("SELECT count(*) FROM baton.sessions") == "3")

        environment["BATON_RETENTION"] = "14 days"
        let bad = try await runBaton(["prune", "--dry-run"], environment: environment)
        #expect(bad.status == 2)
        #expect(bad.output.contains("'14 days' is not a duration"), "\(bad.output)")
        #expect(!bad.output.contains(f.db.url), "no connection URL in errors")
    }
}
