import Baton
import Foundation
import Testing

/// A worker cut off from the database while its handlers run: its steps are rescued and run by
/// another worker, and when it comes back it neither commits a late result nor keeps running a
/// step that is no longer its own.
@Suite struct FencingTests {
    @Test func aCutOffWorkerNeverCommitsAfterItsStepWasHandedOn() async throws {
        let db = try await TestDatabase.create()
        // The cut-off worker logs in as a role of its own, so the test can end its backends and
        // keep it from reconnecting (NOLOGIN) while the other worker goes on.
        let role = "victim_" + UUID().uuidString.prefix(8).lowercased()
        try await db.query("CREATE ROLE \(role) LOGIN SUPERUSER")
        defer { Task { _ = try? await db.query("ALTER ROLE \(role) LOGIN") } }
        let victimDB = try TestDatabase.attach(url: db.url.replacingOccurrences(of: "postgres@", with: "\(role)@"))
        #expect(victimDB.url != db.url)

        let gated = GatedHandler(answer: #"{"from": "victim"}"#)
        var victimConfig = testConfiguration(batchSize: 2)
        victimConfig.workerID = "victim-worker"
        let late = try await db.createSession()     // its handler finishes while the worker is cut off
        let stopped = try await db.createSession()  // its handler still runs when the worker returns

        try await withWorker(victimDB, handlers: HandlerRegistry(gated), configuration: victimConfig) {
            try await awaitValue("the victim to run both THINK steps") { gated.isWaiting(late) && gated.isWaiting(stopped) }

            try await db.query("ALTER ROLE \(role) NOLOGIN")
            let ended = try await db.scalar(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1", [role])
            #expect(Int(ended ?? "0") ?? 0 >= 2, "the victim's worker and listener connections were ended")

            var rescuerConfig = testConfiguration()
            rescuerConfig.workerID = "rescuer-worker"
            try await withWorker(db, configuration: rescuerConfig) {
                try await db.awaitStatus(late, .completed)
                try await db.awaitStatus(stopped, .completed)
            }

            // The first handler finishes now: its result can only wait in memory.
            gated.release(late)
            try await db.query("ALTER ROLE \(role) LOGIN")

            try await db.awaitCondition("the victim's late result to be refused and recorded") {
                try await db.scalar("""
                    SELECT a.error FROM baton.attempts a JOIN baton.tasks t ON t.id = a.task_id
                    WHERE t.session_id = $1 AND t.step = 'THINK' AND a.attempt = 1
                    """, [late])?.contains("result from worker victim-worker refused") == true
            }
            try await awaitValue("the victim to stop the step that is no longer its own") { gated.wasStopped(stopped) }
            try await db.awaitCondition("the stopped attempt to be recorded") {
                try await db.scalar("""
                    SELECT a.error FROM baton.attempts a JOIN baton.tasks t ON t.id = a.task_id
                    WHERE t.session_id = $1 AND t.step = 'THINK' AND a.attempt = 1
                    """, [stopped])?.contains("result from worker victim-worker refused") == true
            }
        }

        for session in [late, stopped] {
            let think = try await db.query("""
                SELECT a.attempt, a.outcome, a.worker_id, a.error, t.result::text AS result
                FROM baton.attempts a JOIN baton.tasks t ON t.id = a.task_id
                WHERE t.session_id = $1 AND t.step = 'THINK' ORDER BY a.attempt
                """, [session]).records
            #expect(think.map { $0["outcome"] } == ["RESCUED", "SUCCEEDED"], "\(think)")
            #expect(think.first?["worker_id"] == "victim-worker")
            #expect(think.first?["error"]?.contains("rescued: worker victim-worker went away during the attempt") == true)
            #expect(think.last?["worker_id"] == "rescuer-worker")
            #expect(think.last?["result"]?.contains("victim") == false, "the committed result is the rescuer's")
        }
        #expect(try await db.scalar("SELECT count(*) FROM baton.attempts WHERE outcome = 'SUCCEEDED' AND worker_id = 'victim-worker'") == "0")
        #expect(gated.starts(late) == 1 && gated.starts(stopped) == 1)
    }
}
