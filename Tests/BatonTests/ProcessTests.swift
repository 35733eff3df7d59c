import Baton
import Foundation
import Testing

/// Real `baton worker` processes: exclusivity across processes, and a worker killed mid-step.
@Suite(.serialized) struct ProcessTests {
    func workerEnvironment(_ db: TestDatabase, extra: [String: String] = [:]) -> [String: String] {
        db.environment.merging([
            "BATON_HANDLER": testHandlerSpec, "WORKER_BATCH_SIZE": "4", "BATON_RESCUE_INTERVAL": "200",
            "WORKER_HEARTBEAT_INTERVAL": "200", "BATON_RESCUE_AFTER": "1000", "RETRY_DELAY": "10",
            "BATON_LOG_LEVEL": "warning",
        ]) { _, new in new }.merging(extra) { _, new in new }
    }

    /// 3 workers, 300 sessions: no two steps of one session ever overlap, every step ran, and
    /// every step has exactly one committed result. Also with DATABASE_URL through PgBouncer.
    @Test(arguments: DatabaseRoute.allCases)
    func threeWorkersNeverHandleOneSessionAtOnce(route: DatabaseRoute) async throws {
        let db = try await TestDatabase.create(route: route)
        let record = NSTemporaryDirectory() + "baton-record-\(UUID().uuidString)"
        let input = "{\"mode\": \"record\", \"holdMs\": 3}"
        try await db.query("SELECT count(*) FROM baton.create_sessions(1, array_fill($1::jsonb, ARRAY[300]))", [input])
        let workers = try (0..<3).map { _ in
            try BatonProcess(["worker"], environment: workerEnvironment(db, extra: ["BATON_TEST_RECORD": record]))
        }
        defer { workers.forEach { $0.kill() } }
        try await db.awaitCondition("300 sessions to complete", timeout: 600) {
            try await db.scalar("SELECT count(*) FROM baton.sessions WHERE status = 'COMPLETED'") == "300"
        }
        for worker in workers { worker.kill(SIGTERM) }
        for worker in workers { #expect(await worker.waitForExit() == 0, "graceful exit: \(worker.output.suffix(2000))") }

        struct Run { var step: String; var start: UInt64; var end: UInt64; var pid: String }
        var runs: [String: [Run]] = [:]
        for line in try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 6, let start = UInt64(f[3]), let end = UInt64(f[4]) else {
                Issue.record("bad record line \(line)")
                continue
            }
            runs[String(f[0]), default: []].append(Run(step: String(f[1]), start: start, end: end, pid: String(f[5])))
        }
        #expect(runs.count == 300)
        var overlapping = 0
        for (session, list) in runs {
            #expect(Set(list.map(\.step)) == ["1.THINK", "1.EXECUTE", "1.INTEGRATE"], "every step of \(session) ran")
            let sorted = list.sorted { $0.start < $1.start }
            for (a, b) in zip(sorted, sorted.dropFirst()) where b.start < a.end { overlapping += 1 }
        }
        #expect(overlapping == 0)
        // Each step exactly one committed result, and one successful attempt.
        #expect(try await db.scalar("SELECT count(*) FROM baton.tasks WHERE status = 'COMPLETED' AND result IS NOT NULL") == "900")
        #expect(try await db.scalar("""
            SELECT count(*) FROM (SELECT task_id FROM baton.attempts WHERE outcome = 'SUCCEEDED'
                                  GROUP BY task_id HAVING count(*) <> 1) x
            """) == "0")
        #expect(try await db.scalar("SELECT count(*) FROM baton.attempts WHERE outcome = 'SUCCEEDED'") == "900")
        let workerIDs = try await db.scalar("SELECT count(DISTINCT worker_id) FROM baton.attempts")
        #expect(workerIDs == "3", "all three workers took part")
    }

    /// A worker SIGKILLed mid-step: its handler dies with it, another worker rescues the step and
    /// completes the session, and the interrupted attempt stays in the history.
    @Test func aKilledWorkersStepIsRescuedAndFinishedByAnother() async throws {
        let db = try await TestDatabase.create()
        let pidFile = NSTemporaryDirectory() + "baton-crash-\(UUID().uuidString)"
        let id = try await db.createSession(input: "{\"mode\": \"hold-first\", \"pidFile\": \(JSONText.quote(pidFile))}")
        let first = try BatonProcess(["worker"], environment: workerEnvironment(db))
        try await db.awaitCondition("the first worker to run THINK") {
            let running = try await db.scalar("SELECT status FROM baton.tasks WHERE session_id = $1", [id]) == "RUNNING"
            return running && FileManager.default.fileExists(atPath: pidFile)
        }
        let handlerPID = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let firstWorkerID = try #require(try await db.scalar("SELECT worker_id FROM baton.tasks WHERE session_id = $1", [id]))
        first.kill(SIGKILL)
        _ = await first.waitForExit()
        try await db.awaitCondition("the orphaned handler to die with its worker", timeout: 10) { !isAlive(handlerPID) }

        let second = try BatonProcess(["worker"], environment: workerEnvironment(db))
        defer { second.kill() }
        try await db.awaitStatus(id, .completed)

        let think = try await db.query("""
            SELECT a.attempt, a.outcome, a.worker_id, a.error FROM baton.attempts a JOIN baton.tasks t ON t.id = a.task_id
            WHERE t.session_id = $1 AND t.step = 'THINK' ORDER BY a.attempt
            """, [id]).records
        #expect(think.map { $0["outcome"] } == ["RESCUED", "SUCCEEDED"])
        #expect(think.first?["worker_id"] == firstWorkerID)
        #expect(think.first?["error"]?.contains("went away during the attempt") == true)
        #expect(think.last?["worker_id"] != firstWorkerID)
    }
}
