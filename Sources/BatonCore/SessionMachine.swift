/// The session state machine as a pure value: a position plus the session's settings, and
/// one function per event that returns the next position and the action to carry out.
///
/// Its twin inside PostgreSQL is `baton.decide` (sql/functions/decide.sql), which the
/// worker's commit, `baton.proceed`, `baton.retry` and `baton.cancel` apply. A test feeds
/// every (position, event, settings) to both and requires the same answer.
///
/// States and where they can go:
/// - PENDING: THINKING (a worker claims the first step), CANCELLED.
/// - THINKING / EXECUTING / INTEGRATING: the next running status (steps auto-advance),
///   AWAITING_PROCEED (the gate), THINKING of the next phase (phases auto-advance),
///   COMPLETED (after the last INTEGRATE), FAILED, CANCELLED.
/// - AWAITING_PROCEED: the running status of the waiting step (`proceed`), CANCELLED.
/// - FAILED: the running status of the failed step (`retry`), CANCELLED.
/// - COMPLETED, CANCELLED: nothing.
public struct SessionMachine: Sendable, Hashable {
    /// A session's place: status, phase (1-based) and step (nil once COMPLETED).
    public struct Position: Sendable, Hashable, CustomStringConvertible {
        public var status: SessionStatus
        public var phase: Int
        public var step: Step?

        public init(status: SessionStatus, phase: Int, step: Step?) {
            self.status = status
            self.phase = phase
            self.step = step
        }

        public var description: String { "\(status.rawValue) phase \(phase) \(step?.rawValue ?? "-")" }
    }

    /// What the caller must do after a transition.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        /// Nothing beyond recording the new position.
        case none
        /// Queue a task for the new position's step.
        case enqueue
        /// Wait at the gate for `proceed`.
        case await
        /// The session is done.
        case complete
        /// The session is FAILED.
        case fail
        /// Cancel the session's queued and running tasks.
        case cancel
    }

    /// Things that happen to a session.
    public enum Event: String, Sendable, Hashable, CaseIterable {
        /// A worker starts the current step.
        case claim
        /// The current step produced its result.
        case succeed
        /// The current step failed for good (retries spent, or a permanent error).
        case fail
        /// A person moves the session past the gate.
        case proceed
        /// A person resumes a FAILED session at the failed step.
        case retry
        /// A person cancels the session.
        case cancel
    }

    /// An event that the current state does not allow.
    public struct Rejection: Error, Sendable, Hashable, CustomStringConvertible {
        public var position: Position
        public var event: Event
        public var description: String {
            "session is \(position.status.rawValue); \(event.rawValue) is allowed only \(Self.allowedWhere(event))"
        }
        static func allowedWhere(_ event: Event) -> String {
            switch event {
            case .claim: "when PENDING or running"
            case .succeed, .fail: "while a step runs (THINKING, EXECUTING, INTEGRATING)"
            case .proceed: "in AWAITING_PROCEED"
            case .retry: "in FAILED"
            case .cancel: "before the session is COMPLETED or CANCELLED"
            }
        }
    }

    public var position: Position
    public var totalPhases: Int
    public var autoSteps: Bool
    public var autoPhases: Bool

    public init(position: Position, totalPhases: Int, autoSteps: Bool, autoPhases: Bool) {
        self.position = position
        self.totalPhases = totalPhases
        self.autoSteps = autoSteps
        self.autoPhases = autoPhases
    }

    /// A new session: PENDING at phase 1, step THINK.
    public static func new(totalPhases: Int, autoSteps: Bool = true, autoPhases: Bool = false) -> SessionMachine {
        SessionMachine(
            position: Position(status: .pending, phase: 1, step: .think),
            totalPhases: totalPhases, autoSteps: autoSteps, autoPhases: autoPhases)
    }

    /// Applies `event`; on success the machine holds the new position and the action is returned.
    public mutating func handle(_ event: Event) throws(Rejection) -> Action {
        guard let (next, action) = Self.decide(position, event: event, totalPhases: totalPhases,
                                               autoSteps: autoSteps, autoPhases: autoPhases)
        else { throw Rejection(position: position, event: event) }
        position = next
        return action
    }

    /// The pure decision: the next position and action, or nil when `event` is not allowed.
    public static func decide(
        _ p: Position, event: Event, totalPhases: Int, autoSteps: Bool, autoPhases: Bool
    ) -> (Position, Action)? {
        let running = p.step.map { p.status == SessionStatus(running: $0) } ?? false
        switch event {
        case .claim:
            if p.status == .pending && p.step == .think {
                return (Position(status: .thinking, phase: p.phase, step: .think), .none)
            }
            return running ? (p, .none) : nil
        case .succeed:
            guard running, let step = p.step else { return nil }
            if let following = step.next {
                return autoSteps
                    ? (Position(status: SessionStatus(running: following), phase: p.phase, step: following), .enqueue)
                    : (Position(status: .awaitingProceed, phase: p.phase, step: following), .await)
            }
            if p.phase >= totalPhases {
                return (Position(status: .completed, phase: p.phase, step: nil), .complete)
            }
            return autoSteps && autoPhases
                ? (Position(status: .thinking, phase: p.phase + 1, step: .think), .enqueue)
                : (Position(status: .awaitingProceed, phase: p.phase + 1, step: .think), .await)
        case .fail:
            return running ? (Position(status: .failed, phase: p.phase, step: p.step), .fail) : nil
        case .proceed, .retry:
            let from: SessionStatus = event == .proceed ? .awaitingProceed : .failed
            guard p.status == from, let step = p.step else { return nil }
            return (Position(status: SessionStatus(running: step), phase: p.phase, step: step), .enqueue)
        case .cancel:
            return p.status.isTerminal ? nil : (Position(status: .cancelled, phase: p.phase, step: p.step), .cancel)
        }
    }

    /// Every status change the machine allows, as (from, to) pairs. PostgreSQL's
    /// `baton.transitions` must hold exactly these.
    public static let allowedTransitions: Set<Transition> = {
        var pairs = Set<Transition>()
        for position in reachablePositions(maxPhases: 3) {
            for event in Event.allCases {
                for (autoSteps, autoPhases) in [(false, false), (false, true), (true, false), (true, true)] {
                    for total in position.phase...3 {
                        if let (next, _) = decide(position, event: event, totalPhases: total,
                                                  autoSteps: autoSteps, autoPhases: autoPhases),
                           next.status != position.status {
                            pairs.insert(Transition(from: position.status, to: next.status))
                        }
                    }
                }
            }
        }
        return pairs
    }()

    /// Every position a session with up to `maxPhases` phases can be in (and some it cannot,
    /// such as a running status naming another step): the domain for exhaustive checks.
    public static func reachablePositions(maxPhases: Int) -> [Position] {
        var all: [Position] = []
        for status in SessionStatus.allCases {
            for phase in 1...maxPhases {
                for step in [Step?.none] + Step.allCases.map(Optional.some) {
                    all.append(Position(status: status, phase: phase, step: step))
                }
            }
        }
        return all
    }
}

/// A status change: from one status to another.
public struct Transition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var from: SessionStatus
    public var to: SessionStatus
    public init(from: SessionStatus, to: SessionStatus) {
        self.from = from
        self.to = to
    }
    public var description: String { "\(from.rawValue)->\(to.rawValue)" }
    public static func < (a: Transition, b: Transition) -> Bool { a.description < b.description }
}
