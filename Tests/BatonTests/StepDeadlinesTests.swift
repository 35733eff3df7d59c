@testable import Baton
import Synchronization
import Testing

/// The step timeout through one shared deadline table: deadlines fire once, removed ones never, and
/// nothing stays behind (a cancelled per-step timer kept its memory until WORKER_TIMEOUT passed).
/// No database.
@Suite struct StepDeadlinesTests {
    @Test func aHandlerThatOutlivesItsTimeoutIsCutOffAndItsDeadlineGoes() async {
        let result = await StepRunner.race(timeoutMs: 50) {
            // Ignores cancellation: the race must return anyway.
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
            return "never"
        }
        #expect(result == nil, "timed out")
    }

    @Test func aHandlerThatFinishesInTimeLeavesNoDeadlineBehind() async throws {
        let deadlines = StepDeadlines()
        for i in 0..<1_000 {
            let result = await StepRunner.race(timeoutMs: 300_000, deadlines: deadlines) { "{\"i\":\(i)}" }
            #expect((try result?.get()) == "{\"i\":\(i)}")
        }
        #expect(deadlines.pendingCount == 0)
    }

    @Test func aRemovedDeadlineNeverFiresAndAnOtherOneDoes() async {
        let deadlines = StepDeadlines()
        let fired = Mutex<[String]>([])
        let removed = deadlines.add(afterMs: 20) { fired.withLock { $0.append("removed") } }
        deadlines.remove(removed)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            _ = deadlines.add(afterMs: 40) {
                fired.withLock { $0.append("kept") }
                done.resume()
            }
        }
        #expect(fired.withLock { $0 } == ["kept"])
        #expect(deadlines.pendingCount == 0)
    }

    @Test func aCancelledRaceReturnsAtOnce() async {
        let task = Task {
            await StepRunner.race(timeoutMs: 300_000) {
                await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
                return "never"
            }
        }
        task.cancel()
        let result = await task.value
        #expect(result == nil)
    }
}
