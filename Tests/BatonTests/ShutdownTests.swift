import Baton
import Foundation
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// Graceful shutdown: no new steps, running ones finish within the grace period, the rest are
/// given back without spending an attempt.
@Suite struct ShutdownTests {
    func makeWorker(_ db: TestDatabase, _ handler: any StepHandler, graceMs: Int = 30_000, timeoutMs: Int = 60_000,
                    maxRetries: Int = 3) -> Worker {
        var configuration = testConfiguration(timeoutMs: timeoutMs, maxRetries: maxRetries)
        configuration.shutdownGraceMs = graceMs
        return Worker(configuration: configuration, handlers: HandlerRegistry(handler), direct: db.directSettings,
                      pool: db.pool, logger: testLogger())
    }

    /// A handler that announces its arrival and returns `result` only once released. It ignores
    /// cancellation, like a badly written handler.
    func gatedHandler(_ gate: Gate, result: String) -> ClosureHandler {
        ClosureHandler { _ in
            await gate.arrive()
            await gate.waitForRelease()
            return result
        }
    }

    /// Runs the worker under the lifecycle test kit: shuts it down once its handler runs,
    /// optionally releases the handler, and waits until `run()` returns by itself.
    func runUntilShutdown(_ worker: Worker, _ gate: Gate, releaseAfterShutdown: Bool) async throws {
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                await gate.waitForArrival()
                trigger.triggerGracefulShutdown()
                if releaseAfterShutdown { await gate.release() }
                try await group.waitForAll()
            }
        }
    }

    @Test func aRunningStepFinishesAndNothingNewStarts() async throws {
        let db = try await TestDatabase.create()
        let gate = Gate()
        let worker = makeWorker(db, gatedHandler(gate, result: "{\"finished\": true}"))
        let id = try await db.createSession()
        try await runUntilShutdown(worker, gate, releaseAfterShutdown: true)
        let steps = try await db.query("SELECT step, status, attempt, result::text AS result FROM baton.tasks WHERE session_id = $1 ORDER BY id", [id]).records
        #expect(steps.map { $0["step"] } == ["THINK", "EXECUTE"])
        #expect(steps[0]["status"] == "COMPLETED" && steps[0]["result"] == "{\"finished\": true}", "the running step was committed")
        #expect(steps[1]["status"] == "PENDING" && steps[1]["attempt"] == "0", "the next step was queued, not started")
        #expect(try await db.status(id) == "EXECUTING")
    }

    @Test func stepsStillRunningAfterTheGraceAreGivenBack() async throws {
        let db = try await TestDatabase.create()
        let gate = Gate()
        // Not released before the grace ends: the worker must not wait for it forever.
        let worker = makeWorker(db, gatedHandler(gate, result: "{}"), graceMs: 200)
        let id = try await db.createSession()
        try await runUntilShutdown(worker, gate, releaseAfterShutdown: false)
        let task = try #require(try await db.query("SELECT status, attempt, worker_id FROM baton.tasks WHERE session_id = $1", [id]).first)
        #expect(task["status"] == "PENDING" && task["attempt"] == "0" && task["worker_id"] == nil, "given back, attempt not spent")
        #expect(try await db.scalar("SELECT count(*) FROM baton.attempts WHERE session_id = $1", [id]) == "0")
        // Its session lock was released: another worker picks it up at once.
        try await withWorker(db) { try await db.awaitStatus(id, .completed) }
        await gate.release()
    }

    @Test func aHandlerThatIgnoresCancellationStillTimesOut() async throws {
        let db = try await TestDatabase.create()
        let gate = Gate()
        let handler = ClosureHandler { _ in
            await gate.waitForRelease()  // never released during the test, deaf to cancellation
            return "{}"
        }
        let id = try await db.createSession()
        try await withWorker(db, handlers: HandlerRegistry(handler), configuration: testConfiguration(timeoutMs: 200, maxRetries: 0)) {
            try await db.awaitStatus(id, .failed)
        }
        #expect(try await db.scalar("SELECT error FROM baton.sessions WHERE id = $1", [id])?.contains("timed out after 200 ms") == true)
        await gate.release()
    }
}
