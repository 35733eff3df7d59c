@testable import Baton
import Testing

/// The real worker loop (`WorkerLoop`: handlers, timers, one database call at a time) driven
/// through a fake `WorkerDatabase`: no PostgreSQL. The integration suites run it against the
/// real one.
@Suite(.timeLimit(.minutes(1))) struct WorkerLoopTests {
    func makeLoop(_ database: FakeWorkerDatabase, handler: any StepHandler = EchoHandler()) -> WorkerLoop {
        let configuration = WorkerConfiguration(workerID: "fake", batchSize: 4, shutdownGraceMs: 60_000)
        return WorkerLoop(
            configuration: configuration,
            runner: StepRunner(handlers: HandlerRegistry(handler), timeoutMs: 60_000, policy: configuration.retry),
            database: database, metrics: WorkerMetrics(), logger: testLogger())
    }

    @Test func claimsRunsCommitsAndStopsOnShutdown() async throws {
        let database = FakeWorkerDatabase(claims: [Claimed(steps: [fakeStep(1), fakeStep(2)])])
        let inbox = WorkerInbox()
        let loop = makeLoop(database)
        async let done: Void = loop.run(inbox)
        inbox.post(.notified(taskIDs: [1]))
        inbox.post(.listening)
        let committed = await database.awaitCommitted([1, 2])
        #expect(committed.allSatisfy { $0.verdict == .succeeded && $0.json?.contains("echo") == true }, "\(committed)")
        inbox.post(.shutdownRequested)
        await done
        let calls = await database.calls
        #expect(calls.first == "claim 4", "\(calls)")
    }

    @Test func aLostAttemptIsStoppedAndItsOutcomeCommitted() async throws {
        let gate = Gate()
        let handler = ClosureHandler { _ in
            await gate.arrive()
            await gate.waitForRelease()  // never released: only the worker can end it
            return "{}"
        }
        let database = FakeWorkerDatabase(claims: [Claimed(steps: [fakeStep(7)])])
        let inbox = WorkerInbox()
        async let done: Void = makeLoop(database, handler: handler).run(inbox)
        inbox.post(.listening)
        await gate.waitForArrival()
        await database.loseOnNextHeartbeat([7])
        inbox.post(.heartbeatTick)
        let committed = await database.awaitCommitted([7])
        #expect(committed.first?.error?.contains("the worker stopped the step") == true, "\(committed)")
        inbox.post(.shutdownRequested)
        await done
        await gate.release()
    }

    @Test func aLostConnectionKeepsTheOutcomeAndARefusalCommitsStepByStep() async throws {
        let database = FakeWorkerDatabase(claims: [Claimed(steps: [fakeStep(1), fakeStep(2)])])
        await database.failNextFinish(.connection("server closed the connection unexpectedly"))
        await database.refuse(task: 2)
        let inbox = WorkerInbox()
        async let done: Void = makeLoop(database).run(inbox)
        inbox.post(.listening)
        let committed = await database.awaitCommitted([1, 2])
        #expect(committed.first { $0.taskID == 1 }?.verdict == .succeeded)
        #expect(committed.first { $0.taskID == 2 }?.error?.contains("the database refused the step's result") == true, "\(committed)")
        inbox.post(.shutdownRequested)
        await done
        let calls = await database.calls
        #expect(calls.contains("finish 1 alone") || calls.contains("finish 2 alone"), "one by one after the refusal: \(calls)")
    }
}

/// A `WorkerDatabase` in memory: claims hand out what the test queued, commits record what
/// they got, and a test can make calls fail.
actor FakeWorkerDatabase: WorkerDatabase {
    struct Committed: Sendable, CustomStringConvertible {
        var taskID: Int64
        var verdict: StepVerdict
        var json: String?
        var error: String?
        var description: String { "\(taskID) \(verdict) \(json ?? error ?? "")" }
    }

    private var claims: [Claimed]
    private(set) var calls: [String] = []
    private(set) var committed: [Committed] = []
    private var lost: [Int64] = []
    private var nextFinishFailure: DatabaseError?
    private var refused: Set<Int64> = []
    private var waiters: [(Set<Int64>, CheckedContinuation<[Committed], Never>)] = []

    init(claims: [Claimed]) {
        self.claims = claims
    }

    func loseOnNextHeartbeat(_ ids: [Int64]) { lost = ids }
    func failNextFinish(_ error: DatabaseError) { nextFinishFailure = error }
    /// The server refuses this task's success (as it refuses a result it cannot store).
    func refuse(task: Int64) { refused.insert(task) }

    /// Waits until every one of `ids` was committed; returns their commits (those there are
    /// when the test is cancelled, as by its time limit).
    func awaitCommitted(_ ids: Set<Int64>) async -> [Committed] {
        if let done = commitsIfAll(ids) { return done }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { waiters.append((ids, $0)) }
        } onCancel: {
            Task { await self.giveUp() }
        }
    }

    private func giveUp() {
        for (ids, continuation) in waiters { continuation.resume(returning: committed.filter { ids.contains($0.taskID) }) }
        waiters.removeAll()
    }

    private func commitsIfAll(_ ids: Set<Int64>) -> [Committed]? {
        let found = committed.filter { ids.contains($0.taskID) }
        return Set(found.map(\.taskID)) == ids ? found : nil
    }

    func claim(limit: Int) async throws(DatabaseError) -> Claimed {
        calls.append("claim \(limit)")
        return takeClaim(limit)
    }

    func finishAndClaim(_ outcomes: [StepOutcome], limit: Int) async throws(DatabaseError) -> (verdicts: [Int64: StepVerdict], claimed: Claimed) {
        calls.append("finish \(outcomes.map(\.taskId)) +claim \(limit)")
        let verdicts = try commit(outcomes)
        return (verdicts, takeClaim(limit))
    }

    func finish(_ outcomes: [StepOutcome]) async throws(DatabaseError) -> [Int64: StepVerdict] {
        calls.append(outcomes.count == 1 ? "finish \(outcomes[0].taskId) alone" : "finish \(outcomes.map(\.taskId))")
        return try commit(outcomes)
    }

    func handOff(_ outcomes: [StepOutcome]) async throws(DatabaseError) -> [Int64: StepVerdict] {
        calls.append("hand off \(outcomes.map(\.taskId))")
        return Dictionary(uniqueKeysWithValues: outcomes.map { ($0.taskId, .deferred) })
    }

    func heartbeat(running: [ClaimedStep]) async throws(DatabaseError) -> [Int64] {
        calls.append("heartbeat \(running.map(\.context.taskId))")
        defer { lost = [] }
        return lost
    }

    func release(_ steps: [ClaimedStep]) async throws(DatabaseError) -> Int {
        calls.append("release \(steps.map(\.context.taskId))")
        return steps.count
    }

    func close() async {}
    func stopped() async {}

    private func takeClaim(_ limit: Int) -> Claimed {
        guard limit > 0, !claims.isEmpty else { return Claimed() }
        return claims.removeFirst()
    }

    private func commit(_ outcomes: [StepOutcome]) throws(DatabaseError) -> [Int64: StepVerdict] {
        if let failure = nextFinishFailure {
            nextFinishFailure = nil
            throw failure
        }
        for outcome in outcomes where refused.contains(outcome.taskId) {
            if case .succeeded = outcome.result {
                throw .server(sqlState: "22P05", message: "unsupported Unicode escape sequence", detail: nil, hint: nil)
            }
        }
        var verdicts: [Int64: StepVerdict] = [:]
        for outcome in outcomes {
            switch outcome.result {
            case .succeeded(let json):
                verdicts[outcome.taskId] = .succeeded
                committed.append(Committed(taskID: outcome.taskId, verdict: .succeeded, json: json))
            case .failed(let message, let delay):
                verdicts[outcome.taskId] = delay == nil ? .failed : .retry
                committed.append(Committed(taskID: outcome.taskId, verdict: verdicts[outcome.taskId]!, error: message))
            case .deferred:
                verdicts[outcome.taskId] = .deferred
            }
        }
        waiters.removeAll { ids, continuation in
            guard let done = commitsIfAll(ids) else { return false }
            continuation.resume(returning: done)
            return true
        }
        return verdicts
    }
}

fileprivate func fakeStep(_ id: Int64) -> ClaimedStep {
    ClaimedStep(
        context: StepContext(taskId: id, sessionId: "fake-\(id)", kind: "default", phase: 1, totalPhases: 1, step: .think,
                             attempt: 1, inputJSON: "{}", previousJSON: "{}"),
        budgetAttempt: 1, generation: 1)
}
