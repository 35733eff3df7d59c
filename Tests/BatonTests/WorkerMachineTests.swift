@testable import Baton
import Testing

/// The worker's decisions as transcripts: events in, actions and database calls out. No
/// database, no clock: every rule of `WorkerMachine`, one race or failure per test.
@Suite struct WorkerMachineTests {
    typealias Event = WorkerMachine.Event
    typealias Action = WorkerMachine.Action
    typealias Call = WorkerMachine.Call

    // MARK: starting and claiming

    @Test func noClaimBeforeTheListenerListens() {
        var t = Transcript()
        #expect(t.on(.pollTick) == [])
        #expect(t.on(.notified(taskIDs: [1, 2])) == [])
        #expect(t.next() == .wait, "a scan before LISTEN could miss a notification sent in between")
        t.on(.listening)
        #expect(t.next() == .call(.claim(limit: 4)))
    }

    @Test func everyListeningScansAgain() {
        var t = Transcript()
        t.listenAndClaim([])
        #expect(t.next() == .wait)
        t.on(.listening)  // the listener reconnected: what was sent meanwhile is unheard
        #expect(t.next() == .call(.claim(limit: 4)))
    }

    @Test func aShortBatchWaitsForNewsAndANotificationClaims() {
        var t = Transcript()
        let actions = t.listenAndClaim([step(1), step(2)])
        #expect(actions == [.start(step(1), notifiedAgo: nil), .start(step(2), notifiedAgo: nil)])
        #expect(t.next() == .wait, "a short batch means the queue was empty")
        t.on(.notified(taskIDs: [3]))
        #expect(t.next() == .call(.claim(limit: 2)), "only the free slots")
    }

    @Test func aHandOffFreesSlotsAndTheWorkerLooksForMore() {
        var t = Transcript(batchSize: 4)
        t.listenAndClaim([step(1), step(2), step(3), step(4)])
        // A handed-off step leaves its slot without a commit that could claim.
        t.on(.stepFinished(outcome(step(1), .deferred(reason: "202"))))
        #expect(t.next() == .call(.handOff([outcome(step(1), .deferred(reason: "202"))])))
        t.on(.handedOff(verdicts: [1: .deferred]))
        #expect(t.next() == .call(.claim(limit: 1)))
    }

    @Test func aScanAskedForWhileAClaimIsOutIsNotLost() {
        var t = Transcript()
        t.on(.listening)
        #expect(t.next() == .call(.claim(limit: 4)))
        t.on(.notified(taskIDs: [9]))  // committed after the claim's snapshot, perhaps
        #expect(t.next() == .wait, "one call at a time")
        t.on(.claimed(Claimed(steps: [step(1)])))
        #expect(t.next() == .call(.claim(limit: 3)), "the short answer must not swallow the notification")
    }

    @Test func rowsSkippedForABusySessionLockAreLookedAtAgainAfter20Ms() {
        var t = Transcript()
        let actions = t.listenAndClaim([step(1)], lockBusy: 2)
        #expect(actions == [.start(step(1), notifiedAgo: nil), .wakeAfter(ms: 20, .scan)])
        #expect(t.next() == .wait)
        t.on(.woke(.scan))
        #expect(t.next() == .call(.claim(limit: 3)))
    }

    @Test func nothingIsClaimedWhileEverySlotIsTaken() {
        var t = Transcript(batchSize: 2)
        t.listenAndClaim([step(1), step(2)])
        t.on(.notified(taskIDs: [3]))
        t.on(.pollTick)
        #expect(t.next() == .wait)
    }

    // MARK: committing

    @Test func finishedStepsAreCommittedWithTheNextClaimInOneCall() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2), step(3)])
        t.on(.stepFinished(outcome(step(1))))
        t.on(.stepFinished(outcome(step(2))))
        #expect(t.next() == .call(.finish([outcome(step(1)), outcome(step(2))], claimUpTo: 3)))
        let actions = t.on(.finished(verdicts: [1: .succeeded, 2: .succeeded], claimed: Claimed(steps: [step(4)])))
        #expect(actions == [.start(step(4), notifiedAgo: nil)])
        #expect(t.machine.unflushed.isEmpty)
        #expect(Set(t.machine.running.keys) == [3, 4])
    }

    @Test func stepsThatFinishWhileACommitIsOutGoTogetherInTheNextOne() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2), step(3), step(4)])
        t.on(.stepFinished(outcome(step(1))))
        #expect(t.next() == .call(.finish([outcome(step(1))], claimUpTo: 1)))
        t.on(.stepFinished(outcome(step(2))))
        t.on(.stepFinished(outcome(step(3))))
        #expect(t.next() == .wait)
        t.on(.finished(verdicts: [1: .succeeded], claimed: Claimed()))
        #expect(t.next() == .call(.finish([outcome(step(2)), outcome(step(3))], claimUpTo: 3)))
    }

    @Test func aHandOffGoesBeforeTheFinishAndTheFinishStillClaims() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2)])
        let deferred = outcome(step(1), .deferred(reason: "202"))
        t.on(.stepFinished(deferred))
        t.on(.stepFinished(outcome(step(2))))
        #expect(t.next() == .call(.handOff([deferred])))
        t.on(.handedOff(verdicts: [1: .deferred]))
        #expect(t.next() == .call(.finish([outcome(step(2))], claimUpTo: 4)))
    }

    @Test func aRetryWithADelayWakesAScanAfterTheDelay() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2)])
        let retried = outcome(step(1), .failed(message: "flaky", retryDelayMs: 250))
        let failed = outcome(step(2), .failed(message: "no retries left", retryDelayMs: nil))
        t.on(.stepFinished(retried))
        t.on(.stepFinished(failed))
        #expect(t.next() == .call(.finish([retried, failed], claimUpTo: 4)))
        let actions = t.on(.finished(verdicts: [1: .retry, 2: .failed], claimed: Claimed()))
        #expect(actions == [.wakeAfter(ms: 251, .scan)])
    }

    @Test func aDiscardedRetryDoesNotWake() {
        var t = Transcript()
        t.listenAndClaim([step(1)])
        let late = outcome(step(1), .failed(message: "stopped", retryDelayMs: 250))
        t.on(.stepFinished(late))
        #expect(t.next() == .call(.finish([late], claimUpTo: 4)))
        #expect(t.on(.finished(verdicts: [1: .discarded], claimed: Claimed())) == [])
    }

    @Test func aFailedCommitKeepsItsOutcomesAndBacksOff() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2)])
        t.on(.stepFinished(outcome(step(1))))
        #expect(t.next() == .call(.finish([outcome(step(1))], claimUpTo: 3)))
        #expect(t.on(.callFailed(.connectionLost)) == [.note(.cannotCommit(steps: 1, retryInMs: 100)), .wakeAfter(ms: 100, .scan)])
        // Another step finishing is no reason to hammer a database that is away.
        t.on(.stepFinished(outcome(step(2))))
        #expect(t.next() == .wait)
        t.on(.woke(.scan))
        #expect(t.next() == .call(.finish([outcome(step(1)), outcome(step(2))], claimUpTo: 4)))
        #expect(t.on(.callFailed(.connectionLost)) == [.note(.cannotCommit(steps: 2, retryInMs: 200)), .wakeAfter(ms: 200, .scan)])
        t.on(.woke(.scan))
        #expect(t.next() == .call(.finish([outcome(step(1)), outcome(step(2))], claimUpTo: 4)))
        t.on(.finished(verdicts: [1: .succeeded, 2: .succeeded], claimed: Claimed()))
        #expect(t.machine.unflushed.isEmpty && !t.machine.databaseDown)
    }

    @Test func aRefusedBatchIsCommittedStepByStepAndARefusedResultBecomesAFailure() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2)])
        t.on(.stepFinished(outcome(step(1))))
        t.on(.stepFinished(outcome(step(2), .succeeded(json: "\"bad\""))))
        #expect(t.next() == .call(.finish([outcome(step(1)), outcome(step(2), .succeeded(json: "\"bad\""))], claimUpTo: 4)))
        // Refused, not lost: no backoff, one step at a time so one bad result holds back nothing.
        #expect(t.on(.callFailed(.refused("invalid input"))) == [.note(.batchRefused(steps: 2))])
        #expect(t.next() == .call(.finish([outcome(step(1))], claimUpTo: 0)))
        t.on(.finished(verdicts: [1: .succeeded], claimed: Claimed()))
        #expect(t.next() == .call(.finish([outcome(step(2), .succeeded(json: "\"bad\""))], claimUpTo: 0)))
        #expect(t.on(.callFailed(.refused("invalid input"))) == [.note(.resultRefused(taskID: 2))])
        let rewritten = outcome(step(2), .failed(message: "the database refused the step's result: invalid input", retryDelayMs: nil))
        #expect(t.next() == .call(.finish([rewritten], claimUpTo: 0)))
        t.on(.finished(verdicts: [2: .failed], claimed: Claimed()))
        #expect(t.machine.unflushed.isEmpty)
        #expect(t.next() == .call(.claim(limit: 4)), "a commit without a claim looks for more afterwards")
    }

    @Test func aRefusalAfterAnOutageGoesOnStepByStepAtOnce() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2)])
        t.on(.stepFinished(outcome(step(1))))
        t.on(.stepFinished(outcome(step(2))))
        _ = t.next()
        t.on(.callFailed(.connectionLost))
        t.on(.woke(.scan))
        #expect(t.next() == .call(.finish([outcome(step(1)), outcome(step(2))], claimUpTo: 4)))
        t.on(.callFailed(.refused("invalid input")))
        #expect(t.next() == .call(.finish([outcome(step(1))], claimUpTo: 0)), "the database answered: no waiting for a wake-up")
    }

    @Test func aResultRefusedEvenAsAFailureBacksOff() {
        var t = Transcript()
        t.listenAndClaim([step(1)])
        t.on(.stepFinished(outcome(step(1))))
        _ = t.next()
        t.on(.callFailed(.refused("no")))
        _ = t.next()
        t.on(.callFailed(.refused("no")))
        #expect(t.next() == .call(.finish([outcome(step(1), .failed(message: "the database refused the step's result: no", retryDelayMs: nil))], claimUpTo: 0)))
        #expect(t.on(.callFailed(.refused("still no"))) == [.note(.cannotCommit(steps: 1, retryInMs: 100)), .wakeAfter(ms: 100, .scan)])
        #expect(t.next() == .wait)
        t.on(.woke(.scan))
        _ = t.next()
        #expect(t.on(.callFailed(.refused("still no"))) == [.note(.cannotCommit(steps: 1, retryInMs: 200)), .wakeAfter(ms: 200, .scan)],
                "the backoff grows: a database that refuses everything is not hammered")
    }

    // MARK: the database away

    @Test func whileTheDatabaseIsDownOnlyAWakeUpClaims() {
        var t = Transcript()
        t.on(.listening)
        #expect(t.next() == .call(.claim(limit: 4)))
        #expect(t.on(.callFailed(.connectionLost)) == [.note(.cannotClaim(retryInMs: 100)), .wakeAfter(ms: 100, .scan)])
        t.on(.heartbeatTick)
        #expect(t.next() == .call(.heartbeat([])), "the heartbeat is not held back")
        t.on(.callFailed(.connectionLost))
        #expect(t.next() == .wait, "no claim on a heartbeat's failure")
        t.on(.woke(.scan))
        #expect(t.next() == .call(.claim(limit: 4)))
        #expect(t.on(.callFailed(.connectionLost)) == [.note(.cannotClaim(retryInMs: 200)), .wakeAfter(ms: 200, .scan)])
        t.on(.pollTick)
        #expect(t.next() == .call(.claim(limit: 4)))
        t.on(.claimed(Claimed()))
        #expect(!t.machine.databaseDown)
    }

    @Test func aHeartbeatThatGetsThroughEndsTheWait() {
        var t = Transcript()
        t.listenAndClaim([step(1)])
        t.on(.stepFinished(outcome(step(1))))
        _ = t.next()
        t.on(.callFailed(.connectionLost))
        t.on(.heartbeatTick)
        #expect(t.next() == .call(.heartbeat([])))
        t.on(.heartbeatAnswered(lost: []))
        #expect(t.next() == .call(.finish([outcome(step(1))], claimUpTo: 4)), "the database is back: commit now")
    }

    // MARK: heartbeats and fencing

    @Test func theHeartbeatGoesFirstAndNamesTheRunningAttempts() {
        var t = Transcript()
        t.listenAndClaim([step(2), step(1)])
        t.on(.stepFinished(outcome(step(2))))
        t.on(.heartbeatTick)
        #expect(t.next() == .call(.heartbeat([step(1)])))
        t.on(.heartbeatAnswered(lost: []))
        #expect(t.next() == .call(.finish([outcome(step(2))], claimUpTo: 3)))
    }

    @Test func aHeartbeatThatReportsLostAttemptsStopsEachOnce() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2)])
        t.on(.heartbeatTick)
        _ = t.next()
        #expect(t.on(.heartbeatAnswered(lost: [1, 99])) == [.stop(step(1))], "99 is not running here")
        t.on(.heartbeatTick)
        #expect(t.next() == .call(.heartbeat([step(1), step(2)])))
        #expect(t.on(.heartbeatAnswered(lost: [1])) == [], "asked to stop once")
        // The stopped attempt's outcome is still this worker's to commit: the fence records it.
        let stopped = outcome(step(1), .failed(message: "the worker stopped the step", retryDelayMs: nil))
        t.on(.stepFinished(stopped))
        #expect(t.next() == .call(.finish([stopped], claimUpTo: 3)))
    }

    @Test func aLateOutcomeOfAReplacedAttemptIsIgnored() {
        var t = Transcript()
        t.listenAndClaim([step(1, attempt: 1)])
        t.on(.heartbeatTick)
        _ = t.next()
        #expect(t.on(.heartbeatAnswered(lost: [1])) == [.stop(step(1, attempt: 1))])
        // Rescued meanwhile and claimed again here under the next attempt.
        t.on(.pollTick)
        #expect(t.next() == .call(.claim(limit: 3)))
        t.on(.claimed(Claimed(steps: [step(1, attempt: 2)])))
        t.on(.stepFinished(outcome(step(1, attempt: 1))))
        #expect(t.machine.unflushed.isEmpty, "the old attempt's outcome must not end the new one")
        #expect(t.machine.running[1]?.step == step(1, attempt: 2))
        t.on(.stepFinished(outcome(step(1, attempt: 2))))
        #expect(t.next() == .call(.finish([outcome(step(1, attempt: 2))], claimUpTo: 4)))
    }

    @Test func anOutcomeOfAStepNotRunningHereIsIgnored() {
        var t = Transcript()
        t.listenAndClaim([])
        t.on(.stepFinished(outcome(step(5))))
        #expect(t.machine.unflushed.isEmpty)
        #expect(t.next() == .wait)
    }

    // MARK: wake-ups

    @Test func anAtNotificationWakesAScanThenAtMostThePollAway() {
        var t = Transcript(pollMs: 30_000)
        let now = t.now.epochMs
        #expect(t.on(.readyAt(epochMs: now + 500)) == [.wakeAfter(ms: 501, .scan)])
        #expect(t.on(.readyAt(epochMs: now + 3_600_000)) == [.wakeAfter(ms: 30_001, .scan)])
        #expect(t.on(.readyAt(epochMs: now - 10)) == [.wakeAfter(ms: 1, .scan)])
    }

    @Test func taskNotificationPayloads() {
        func ids(_ event: Event) -> [Int64]? {
            if case .notified(let ids) = event { return ids }
            return nil
        }
        #expect(ids(.taskNotification("42")) == [42])
        #expect(ids(.taskNotification("42,43,57")) == [42, 43, 57])
        #expect(ids(.taskNotification("")) == [], "'' means many: scan")
        #expect(ids(.taskNotification("at:soon")) == [], "not understood: scan")
        #expect(ids(.taskNotification("x,7")) == [7])
        if case .readyAt(let ms) = Event.taskNotification("at:1735787045123") {
            #expect(ms == 1_735_787_045_123)
        } else {
            Issue.record("at: is a wake-up")
        }
    }

    @Test func theNotifyToStartLatencyIsMeasuredFromTheNotification() {
        var t = Transcript()
        t.on(.listening)
        t.on(.notified(taskIDs: [7]), at: .milliseconds(10))
        t.on(.notified(taskIDs: [7]), at: .milliseconds(12))  // the first one counts
        #expect(t.next() == .call(.claim(limit: 4)))
        let actions = t.on(.claimed(Claimed(steps: [step(7), step(8)])), at: .milliseconds(15))
        #expect(actions == [.start(step(7), notifiedAgo: .milliseconds(5)), .start(step(8), notifiedAgo: nil)])
        #expect(t.machine.notifiedAt.isEmpty)
    }

    @Test func theNotifiedMapStaysBounded() {
        var t = Transcript()
        for chunk in stride(from: 0, to: 10_050, by: 50) {
            t.on(.notified(taskIDs: (chunk..<chunk + 50).map(Int64.init)))
            #expect(t.machine.notifiedAt.count <= WorkerMachine.notifiedLimit)
        }
    }

    // MARK: shutdown

    @Test func onShutdownNothingIsClaimedAndRunningStepsFinishThenTheWorkerExits() {
        var t = Transcript(graceMs: 5_000)
        t.listenAndClaim([step(1), step(2)])
        #expect(t.on(.shutdownRequested) == [.note(.shuttingDown(running: 2, graceMs: 5_000)), .wakeAfter(ms: 5_000, .graceOver)])
        #expect(t.on(.shutdownRequested) == [], "once")
        t.on(.notified(taskIDs: [3]))
        t.on(.pollTick)
        #expect(t.next() == .wait, "no claims during shutdown")
        t.on(.stepFinished(outcome(step(1))))
        #expect(t.next() == .call(.finish([outcome(step(1))], claimUpTo: 0)))
        t.on(.finished(verdicts: [1: .succeeded], claimed: Claimed()))
        #expect(t.next() == .wait, "step 2 still runs")
        t.on(.stepFinished(outcome(step(2))))
        #expect(t.next() == .call(.finish([outcome(step(2))], claimUpTo: 0)))
        t.on(.finished(verdicts: [2: .succeeded], claimed: Claimed()))
        #expect(t.next() == .exit)
        #expect(t.next() == .exit)
    }

    @Test func afterTheGraceTheRestIsGivenBackAndLateOutcomesDoNotCount() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2)])
        t.on(.shutdownRequested)
        t.on(.stepFinished(outcome(step(1))))
        t.on(.woke(.graceOver))
        #expect(t.next() == .call(.finish([outcome(step(1))], claimUpTo: 0)), "what finished is committed first")
        t.on(.finished(verdicts: [1: .succeeded], claimed: Claimed()))
        #expect(t.next() == .call(.giveBack([step(2)])))
        t.on(.stepFinished(outcome(step(2))))
        #expect(t.machine.unflushed.isEmpty, "given back: its attempt is not this worker's any more")
        t.on(.gaveBack)
        #expect(t.next() == .exit)
    }

    @Test func aShutdownWithNothingRunningExitsAtOnce() {
        var t = Transcript()
        t.on(.shutdownRequested)
        #expect(t.next() == .exit)
    }

    @Test func aShutdownWaitsForTheCallThatIsOut() {
        var t = Transcript()
        t.on(.listening)
        #expect(t.next() == .call(.claim(limit: 4)))
        t.on(.shutdownRequested)
        #expect(t.next() == .wait)
        t.on(.claimed(Claimed()))
        #expect(t.next() == .exit)
    }

    @Test func stepsThatAClaimBringsAfterTheShutdownBeganAreGivenBackUnstarted() {
        var t = Transcript()
        t.listenAndClaim([step(1)])
        t.on(.stepFinished(outcome(step(1))))
        #expect(t.next() == .call(.finish([outcome(step(1))], claimUpTo: 4)))
        t.on(.shutdownRequested)
        #expect(t.on(.finished(verdicts: [1: .succeeded], claimed: Claimed(steps: [step(2)]))) == [], "not started")
        #expect(t.next() == .call(.giveBack([step(2)])))
        t.on(.gaveBack)
        #expect(t.next() == .exit)
    }

    @Test func graceOverWhileTheDatabaseIsDownTriesOnceMoreThenLeavesTheRestToTheRescuer() {
        var t = Transcript()
        t.listenAndClaim([step(1), step(2)])
        t.on(.stepFinished(outcome(step(1))))
        _ = t.next()
        t.on(.callFailed(.connectionLost))
        t.on(.shutdownRequested)
        #expect(t.next() == .wait)
        t.on(.woke(.graceOver))
        #expect(t.next() == .call(.finish([outcome(step(1))], claimUpTo: 0)), "one last try, not held back by the backoff")
        #expect(t.on(.callFailed(.connectionLost)) == [.note(.droppedUncommitted(steps: 1))])
        #expect(t.next() == .call(.giveBack([step(2)])))
        t.on(.callFailed(.connectionLost))
        #expect(t.next() == .exit)
    }
}

/// A machine and the time, moved on by the test.
struct Transcript {
    var machine: WorkerMachine
    var now = WorkerMachine.Now(monotonic: .zero, epochMs: 1_750_000_000_000)

    init(batchSize: Int = 4, pollMs: Int = 30_000, graceMs: Int = 30_000) {
        machine = WorkerMachine(configuration: WorkerConfiguration(
            workerID: "w", batchSize: batchSize, pollIntervalMs: pollMs, shutdownGraceMs: graceMs))
    }

    /// Feeds one event, optionally at a later monotonic time; returns the actions.
    @discardableResult
    mutating func on(_ event: WorkerMachine.Event, at monotonic: Duration? = nil) -> [WorkerMachine.Action] {
        if let monotonic { now.monotonic = monotonic }
        return machine.handle(event, now: now)
    }

    mutating func next() -> WorkerMachine.Next { machine.next() }

    /// Listening, the first claim, and its answer; returns the answer's actions.
    @discardableResult
    mutating func listenAndClaim(_ steps: [ClaimedStep], lockBusy: Int = 0) -> [WorkerMachine.Action] {
        on(.listening)
        let limit = machine.batchSize - machine.running.count
        #expect(next() == .call(.claim(limit: limit)))
        return on(.claimed(Claimed(steps: steps, lockBusy: lockBusy)))
    }
}

fileprivate func step(_ id: Int64, attempt: Int = 1) -> ClaimedStep {
    ClaimedStep(
        context: StepContext(taskId: id, sessionId: "s\(id)", kind: "default", phase: 1, totalPhases: 1, step: .think,
                             attempt: attempt, inputJSON: "{}", previousJSON: "{}"),
        budgetAttempt: attempt, generation: 1)
}

fileprivate func outcome(_ step: ClaimedStep, _ result: StepOutcome.Result = .succeeded(json: "{}")) -> StepOutcome {
    StepOutcome(taskId: step.context.taskId, sessionId: step.context.sessionId, kind: step.context.kind,
                step: step.context.step, attempt: step.context.attempt, generation: step.generation, result: result,
                startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:00:01Z", inputJSON: "{}")
}
