/// A worker's decisions as a value: events in, actions out, the time passed in with each event.
/// It does no I/O and reads no clock, so each rule is tested as a transcript without a database
/// (`WorkerMachineTests`). Its owner, `WorkerLoop`, runs the handlers, timers and database calls
/// and feeds back what happened.
///
/// Database calls leave through `next()`, one at a time (the worker has one claim connection),
/// and the owner asks for the next one only after it has fed every event it holds: whatever
/// finished while the last call was out is committed together (group commit), and many
/// wake-ups make one claim.
///
/// The rules, each a race or a failure seen before:
/// - No claim before the listener listens (or a notification between the scan and the LISTEN
///   is lost); every `listening` (after each reconnect) scans again.
/// - A finished attempt counts only if it is the attempt still running here: a stopped or given
///   back one may finish late, and the same task may run again under a newer attempt.
/// - A commit claims the next steps in the same round trip when slots are free. After a full
///   batch the worker looks again as soon as a slot is free; after a short one it waits for
///   news. Rows skipped because their session lock was busy (a commit in flight elsewhere) are
///   looked at again after 20 ms.
/// - A scan asked for while a claim is out is not lost: the claim's answer cannot clear it.
/// - A failed commit keeps its outcomes and backs off; a refusal (not a lost connection)
///   commits the steps one by one, and a step the database refuses alone is committed as a
///   failed attempt that says why.
/// - While the database is down, commits and claims go out once per wake-up (the backoff
///   timer, the poll, the listener back), not on every event; a heartbeat that gets through
///   ends the wait.
/// - A retry with a delay wakes a scan after the delay; an `at:` notification wakes one at
///   that time, at most the poll interval away.
/// - A heartbeat that names attempts as lost (rescued, cancelled, finished elsewhere) stops
///   each of them once; their outcomes still come back and are committed, where the fence
///   records them as discarded.
/// - On shutdown: no claims (steps a claim already out brings are given back at once); running
///   steps get the grace to finish and are committed; then the rest are given back (after a
///   last commit), and the worker exits.
/// - The notified-at map (for the notify→start latency) stays bounded.
struct WorkerMachine {
    /// A moment, as the owner read it when the event happened.
    struct Now: Sendable, Equatable {
        /// Monotonic time since an origin the owner chose: for durations.
        var monotonic: Duration
        /// Wall-clock milliseconds since 1970: to compare with `at:<epoch ms>` notifications.
        var epochMs: Int64
    }

    enum Event: Sendable {
        /// The listener LISTENs (first connect or reconnect): claims may start; scan.
        case listening
        /// A `baton_task` notification named these tasks as ready (none: "many", scan anyway).
        case notified(taskIDs: [Int64])
        /// A step queued for later becomes ready at this wall-clock time.
        case readyAt(epochMs: Int64)
        /// The safety poll.
        case pollTick
        /// Time to tell the database this worker is alive.
        case heartbeatTick
        /// A timer the machine asked for (`Action.wakeAfter`) went off.
        case woke(Wake)
        /// A handler returned (or was stopped, or timed out).
        case stepFinished(StepOutcome)
        /// SIGTERM/SIGINT, or the service group's graceful shutdown.
        case shutdownRequested
        // Answers to the call `next()` handed out.
        case claimed(Claimed)
        case finished(verdicts: [Int64: StepVerdict], claimed: Claimed)
        case handedOff(verdicts: [Int64: StepVerdict])
        case heartbeatAnswered(lost: [Int64])
        case gaveBack
        case callFailed(CallFailure)
    }

    enum Wake: Sendable, Equatable {
        /// Look for ready steps.
        case scan
        /// The shutdown grace is over.
        case graceOver
    }

    enum CallFailure: Sendable, Equatable {
        /// The connection is gone or could not be made: try again later, unchanged.
        case connectionLost
        /// The server refused the statement (the connection is fine): this message says why.
        case refused(String)
    }

    /// A database call; the answer comes back as an event.
    enum Call: Sendable, Equatable {
        /// Claim up to `limit` ready steps.
        case claim(limit: Int)
        /// Commit finished attempts; with `claimUpTo` > 0, claim that many next steps in the
        /// same transaction.
        case finish([StepOutcome], claimUpTo: Int)
        /// Hand off steps whose handler said they continue elsewhere (202).
        case handOff([StepOutcome])
        /// Say this worker is alive; the answer names the running attempts that are no longer its.
        case heartbeat([ClaimedStep])
        /// Give steps back unfinished, without spending their attempt.
        case giveBack([ClaimedStep])
    }

    /// Something for a log line.
    enum Note: Sendable, Equatable {
        case shuttingDown(running: Int, graceMs: Int)
        case cannotCommit(steps: Int, retryInMs: Int)
        case cannotClaim(retryInMs: Int)
        case batchRefused(steps: Int)
        case resultRefused(taskID: Int64)
        /// The grace is over and the database cannot take these: the rescuer will.
        case droppedUncommitted(steps: Int)
    }

    enum Action: Sendable, Equatable {
        /// Run this step's handler; `notifiedAgo`: how long ago a notification named it.
        case start(ClaimedStep, notifiedAgo: Duration?)
        /// Cancel this step's handler: the attempt is no longer this worker's.
        case stop(ClaimedStep)
        /// Post `.woke(wake)` after this many milliseconds.
        case wakeAfter(ms: Int, Wake)
        case note(Note)
    }

    enum Next: Sendable, Equatable {
        case call(Call)
        /// Nothing to do until the next event.
        case wait
        /// Done (after a shutdown): stop the handlers and timers, close the connection.
        case exit
    }

    struct Running: Sendable, Equatable {
        var step: ClaimedStep
        /// Its handler was asked to stop (once).
        var stopping = false
    }

    /// Steps skipped for a busy session lock are looked at again after this long.
    static let lockBusyRescanMs = 20
    /// Notified ids kept for the latency metric; ids of tasks another worker took never come back.
    static let notifiedLimit = 10_000

    let batchSize: Int
    let pollIntervalMs: Int
    let shutdownGraceMs: Int

    /// The attempts this worker runs, by task id.
    private(set) var running: [Int64: Running] = [:]
    /// Steps a claim brought after the shutdown began: given back at once, never started.
    private var unwanted: [ClaimedStep] = []
    /// Finished attempts not committed yet, in the order they finished.
    private(set) var unflushed: [StepOutcome] = []
    /// Task ids in `unflushed` to commit one at a time, as their batch was refused; true once the
    /// database refused the step alone as well and its result became a failure.
    private var alone: [Int64: Bool] = [:]
    private var listening = false
    private var wantScan = false
    private var heartbeatDue = false
    private(set) var shuttingDown = false
    private var graceOver = false
    private(set) var databaseDown = false
    /// While the database is down: a wake-up came since the last call went out.
    private var retryAllowed = false
    private var backoff = ReconnectBackoff()
    private var inFlight: Call?
    private var exited = false
    /// When a notification named each task.
    private(set) var notifiedAt: [Int64: Duration] = [:]

    init(configuration: WorkerConfiguration) {
        batchSize = configuration.batchSize
        pollIntervalMs = configuration.pollIntervalMs
        shutdownGraceMs = configuration.shutdownGraceMs
    }

    // MARK: events

    mutating func handle(_ event: Event, now: Now) -> [Action] {
        switch event {
        case .listening:
            listening = true
            askForScan()
            return []
        case .notified(let ids):
            for id in ids where notifiedAt[id] == nil { notifiedAt[id] = now.monotonic }
            if notifiedAt.count > Self.notifiedLimit { notifiedAt.removeAll(keepingCapacity: true) }
            askForScan()
            return []
        case .readyAt(let epochMs):
            let ms = max(0, min(epochMs - now.epochMs, Int64(pollIntervalMs)))
            return [.wakeAfter(ms: Int(ms) + 1, .scan)]
        case .pollTick, .woke(.scan):
            askForScan()
            return []
        case .woke(.graceOver):
            graceOver = true
            return []
        case .heartbeatTick:
            heartbeatDue = true
            return []
        case .stepFinished(let outcome):
            guard running[outcome.taskId]?.step.context.attempt == outcome.attempt else { return [] }
            running[outcome.taskId] = nil
            unflushed.append(outcome)
            return []
        case .shutdownRequested:
            guard !shuttingDown else { return [] }
            shuttingDown = true
            return [.note(.shuttingDown(running: running.count, graceMs: shutdownGraceMs)),
                    .wakeAfter(ms: shutdownGraceMs, .graceOver)]
        case .claimed, .finished, .handedOff, .heartbeatAnswered, .gaveBack, .callFailed:
            guard let call = inFlight else {
                assertionFailure("an answer came with no call out: \(event)")
                return []
            }
            inFlight = nil
            return answered(call, event, now: now)
        }
    }

    private mutating func askForScan() {
        wantScan = true
        retryAllowed = true
    }

    private mutating func answered(_ call: Call, _ event: Event, now: Now) -> [Action] {
        switch (call, event) {
        case (.heartbeat, .heartbeatAnswered(let lost)):
            databaseDown = false
            var actions: [Action] = []
            for id in lost {
                guard let entry = running[id], !entry.stopping else { continue }
                running[id]?.stopping = true
                actions.append(.stop(entry.step))
            }
            return actions
        case (.heartbeat, .callFailed):
            return []  // the next tick tries again

        case (.claim(let limit), .claimed(let claimed)):
            reachable()
            return start(claimed, wanted: limit, now: now)
        case (.claim, .callFailed):
            wantScan = true
            let delay = wentDown()
            return [.note(.cannotClaim(retryInMs: delay)), .wakeAfter(ms: delay, .scan)]

        case (.handOff(let outcomes), .handedOff):
            reachable()
            forget(outcomes)
            wantScan = true  // slots came free
            return []
        case (.handOff, .callFailed):
            return commitFailed()

        case (.finish(let outcomes, let limit), .finished(let verdicts, let claimed)):
            reachable()
            forget(outcomes)
            var actions: [Action] = []
            for outcome in outcomes where verdicts[outcome.taskId] == .retry {
                if case .failed(_, let delay?) = outcome.result { actions.append(.wakeAfter(ms: delay + 1, .scan)) }
            }
            if limit > 0 {
                actions += start(claimed, wanted: limit, now: now)
            } else {
                wantScan = true  // the commit queued next steps; slots may be free by now
            }
            return actions
        case (.finish(let outcomes, _), .callFailed(.refused(let message))):
            databaseDown = false  // it answered; the backoff stays, in case it refuses everything
            wantScan = true
            return refused(outcomes, message: message)
        case (.finish, .callFailed(.connectionLost)):
            return commitFailed()

        case (.giveBack, .gaveBack), (.giveBack, .callFailed):
            return []  // what could not be given back, the rescuer takes

        default:
            assertionFailure("answer \(event) does not fit call \(call)")
            return []
        }
    }

    /// Claimed steps start; a full batch means more may be waiting.
    private mutating func start(_ claimed: Claimed, wanted: Int, now: Now) -> [Action] {
        if shuttingDown {
            unwanted += claimed.steps
            return []
        }
        var actions: [Action] = []
        for step in claimed.steps {
            let id = step.context.taskId
            running[id] = Running(step: step)
            actions.append(.start(step, notifiedAgo: notifiedAt.removeValue(forKey: id).map { now.monotonic - $0 }))
        }
        // A short batch leaves `wantScan` as it is: true only if a scan was asked for meanwhile.
        if claimed.steps.count >= wanted { wantScan = true }
        if claimed.lockBusy > 0 { actions.append(.wakeAfter(ms: Self.lockBusyRescanMs, .scan)) }
        return actions
    }

    /// A batch the server refused goes one step at a time; a step refused alone becomes a failed
    /// attempt that says why; if even that is refused, back off and try again later.
    private mutating func refused(_ outcomes: [StepOutcome], message: String) -> [Action] {
        if outcomes.count == 1, let outcome = outcomes.first, let rewritten = alone[outcome.taskId] {
            if rewritten { return commitFailed() }
            alone[outcome.taskId] = true
            if let index = unflushed.firstIndex(where: { $0.taskId == outcome.taskId && $0.attempt == outcome.attempt }) {
                unflushed[index].result = .failed(message: "the database refused the step's result: \(message)", retryDelayMs: nil)
            }
            return [.note(.resultRefused(taskID: outcome.taskId))]
        }
        for outcome in outcomes { alone[outcome.taskId] = false }
        return [.note(.batchRefused(steps: outcomes.count))]
    }

    /// Keeps the outcomes and backs off; after the grace there is no later.
    private mutating func commitFailed() -> [Action] {
        wantScan = true
        if graceOver {
            let dropped = unflushed.count
            unflushed.removeAll()
            alone.removeAll()
            return [.note(.droppedUncommitted(steps: dropped))]
        }
        let delay = wentDown()
        return [.note(.cannotCommit(steps: unflushed.count, retryInMs: delay)), .wakeAfter(ms: delay, .scan)]
    }

    private mutating func reachable() {
        databaseDown = false
        backoff.reset()
    }

    /// Marks the database down; returns the wait before the next try.
    private mutating func wentDown() -> Int {
        databaseDown = true
        retryAllowed = false
        return backoff.next()
    }

    private mutating func forget(_ committed: [StepOutcome]) {
        for outcome in committed { alone[outcome.taskId] = nil }
        unflushed.removeAll { kept in committed.contains { $0.taskId == kept.taskId && $0.attempt == kept.attempt } }
    }

    // MARK: calls

    /// The next database call, if any may go out now; `.exit` once a shutdown is complete.
    mutating func next() -> Next {
        if exited { return .exit }
        guard inFlight == nil else { return .wait }
        if shuttingDown && running.isEmpty && unflushed.isEmpty && unwanted.isEmpty {
            exited = true
            return .exit
        }
        if heartbeatDue {
            heartbeatDue = false
            return send(.heartbeat(running.values.map(\.step).sorted { $0.context.taskId < $1.context.taskId }))
        }
        guard let call = nextWork() else { return .wait }
        if databaseDown && !graceOver {
            guard retryAllowed else { return .wait }
            retryAllowed = false
        }
        switch call {
        case .claim, .finish(_, claimUpTo: 1...):
            wantScan = false  // the answer says whether to look again
        case .giveBack(let steps):
            // Their outcomes no longer count.
            for step in steps where running[step.context.taskId]?.step == step { running[step.context.taskId] = nil }
            unwanted.removeAll()
        default:
            break
        }
        return send(call)
    }

    private mutating func send(_ call: Call) -> Next {
        inFlight = call
        return .call(call)
    }

    /// Commit before anything else; give back after the grace; claim while slots are free.
    private func nextWork() -> Call? {
        if !unflushed.isEmpty {
            if let single = unflushed.first(where: { alone[$0.taskId] != nil }) { return .finish([single], claimUpTo: 0) }
            let handOff = unflushed.filter(\.result.isDeferred)
            if !handOff.isEmpty { return .handOff(handOff) }
            let free = listening && !shuttingDown ? batchSize - running.count : 0
            return .finish(unflushed, claimUpTo: max(0, free))
        }
        if !unwanted.isEmpty { return .giveBack(unwanted) }
        if shuttingDown {
            return graceOver && !running.isEmpty ? .giveBack(running.values.map(\.step).sorted { $0.context.taskId < $1.context.taskId }) : nil
        }
        guard listening, wantScan, running.count < batchSize else { return nil }
        return .claim(limit: batchSize - running.count)
    }
}

extension WorkerMachine.Event {
    /// A `baton_task` payload as an event: task ids (or `''`: many) → scan; `at:<epoch ms>` → a
    /// wake-up then. A payload not understood means "scan" (docs/design.md).
    static func taskNotification(_ payload: String) -> Self {
        if payload.hasPrefix("at:") {
            guard let epochMs = Int64(payload.dropFirst(3)) else { return .notified(taskIDs: []) }
            return .readyAt(epochMs: epochMs)
        }
        return .notified(taskIDs: payload.split(separator: ",").compactMap { Int64($0) })
    }
}
