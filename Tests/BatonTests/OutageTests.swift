import Baton
import BatonAPI
import Foundation
import Testing

/// PostgreSQL stopped for 10 s in the middle of a run, on a cluster of its own (scripts/test
/// starts it; `BATON_TEST_FAULT_CTL` stops and starts it).
@Suite(.serialized) struct OutageTests {
    func control(_ action: String) async throws {
        let process = try BatonProcess(program: TestEnvironment.faultControl, [action])
        let status = await process.waitForExit()
        guard status == 0 else { throw TestFailure("\(TestEnvironment.faultControl) \(action) failed (\(status)): \(process.output)") }
    }

    /// Worker and API keep running through the outage: the API and /healthz answer 503, the
    /// worker keeps a result finished meanwhile and commits it when the database is back (the
    /// step does not run again), reconnects, LISTENs again, and finishes everything.
    @Test func workerAndAPIRideOutATenSecondOutage() async throws {
        let db = try await TestDatabase.create(faultCluster: true)
        let gated = GatedHandler()
        let handlers = HandlerRegistry(byKind: ["gated": gated], fallback: EchoHandler())
        var configuration = testConfiguration(batchSize: 4)
        // Production liveness settings: the rescuer must not take the step the worker still holds.
        configuration.heartbeatIntervalMs = 1_000
        configuration.rescueAfterMs = 5_000
        // No safety poll within the test: only LISTEN and the scan after a reconnect find work.
        configuration.pollIntervalMs = 600_000
        let held = try await db.createSession(kind: "gated")
        try await db.query("SELECT count(*) FROM baton.create_sessions(2, array_fill('{}'::jsonb, ARRAY[100]), auto_phases => true)")

        try await withWorker(db, handlers: handlers, configuration: configuration) {
            try await withAPI(db) { http, _ in
                try await awaitValue("the held step to run") { gated.isWaiting(held) }
                #expect(try await http.get("/healthz").status == 200)

                try await control("stop")
                let health = try await http.get("/healthz")
                #expect(health.status == 503, "\(health.body)")
                let read = try await http.get("/api/sessions/\(held)")
                #expect(read.status == 503 && read.errorCode == "database_unavailable", "\(read.body)")
                #expect(!read.body.contains("postgresql://"))
                let create = try await http.post("/api/sessions", #"{"phases": 1}"#)
                #expect(create.status == 503, "\(create.body)")

                // The step finishes while the database is down: its result waits in memory.
                gated.release(held)
                try await Task.sleep(for: .seconds(10))  // allowed: the outage itself, the fault being injected
                #expect(try await http.get("/healthz").status == 503, "still down")
                try await control("start")

                try await awaitValue("/healthz to recover", timeout: 60) { try await http.get("/healthz").status == 200 }
                // New work after the restart is picked up: the worker LISTENs again.
                let after = try await http.post("/api/sessions", #"{"phases": 1, "id": "after-restart"}"#)
                #expect(after.status == 201, "\(after.body)")
                try await db.awaitCondition("every session to complete", timeout: 120) {
                    try await db.scalar("SELECT count(*) FILTER (WHERE status <> 'COMPLETED') FROM baton.sessions") == "0"
                }
            }
        }
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == "102")
        // The held step ran once, and its one attempt committed the result it had in memory.
        #expect(gated.starts(held, .think) == 1 && gated.starts(held, .execute) == 1)
        let attempts = try await db.query("""
            SELECT a.attempt, a.outcome FROM baton.attempts a JOIN baton.tasks t ON t.id = a.task_id
            WHERE t.session_id = $1 AND t.step = 'THINK' ORDER BY a.attempt
            """, [held]).records
        #expect(attempts.map { $0["outcome"] } == ["SUCCEEDED"], "\(attempts)")
        // Every step has exactly one committed result.
        #expect(try await db.scalar("""
            SELECT count(*) FROM baton.tasks t
            WHERE t.status <> 'COMPLETED'
               OR (SELECT count(*) FROM baton.attempts a WHERE a.task_id = t.id AND a.outcome = 'SUCCEEDED') <> 1
            """) == "0")
    }

    /// A worker started while the database is down waits for it instead of exiting, then works.
    @Test func aWorkerStartedDuringAnOutageWaitsForTheDatabase() async throws {
        let db = try await TestDatabase.create(faultCluster: true)
        let id = try await db.createSession()
        try await control("stop")
        let worker: BatonProcess
        do {
            worker = try BatonProcess(["worker"], environment: db.environment.merging([
                "BATON_HANDLER": "builtin:echo", "BATON_LOG_LEVEL": "info",
            ]) { _, new in new })
            try await worker.awaitOutput("database unreachable at start; waiting for it")
        } catch {
            try await control("start")
            throw error
        }
        try await control("start")
        defer { worker.kill() }
        try await db.awaitStatus(id, .completed)
        worker.kill(SIGTERM)
        #expect(await worker.waitForExit() == 0, "\(worker.output.suffix(2000))")
    }
}
