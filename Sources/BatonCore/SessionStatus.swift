/// Where a session is. A running status names the step that is queued or running.
public enum SessionStatus: String, CaseIterable, Sendable, Codable, Hashable {
    case pending = "PENDING"
    case thinking = "THINKING"
    case executing = "EXECUTING"
    case integrating = "INTEGRATING"
    case awaitingProceed = "AWAITING_PROCEED"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"

    /// The status while `step` is queued or running.
    public init(running step: Step) {
        switch step {
        case .think: self = .thinking
        case .execute: self = .executing
        case .integrate: self = .integrating
        }
    }

    /// The step this status runs, if it is a running status.
    public var runningStep: Step? {
        switch self {
        case .thinking: .think
        case .executing: .execute
        case .integrating: .integrate
        default: nil
        }
    }

    /// COMPLETED and CANCELLED never change again.
    public var isTerminal: Bool { self == .completed || self == .cancelled }
}

/// The three steps of every phase, in order.
public enum Step: String, CaseIterable, Sendable, Codable, Hashable {
    case think = "THINK"
    case execute = "EXECUTE"
    case integrate = "INTEGRATE"

    /// The step after this one in the same phase, or nil after INTEGRATE.
    public var next: Step? {
        switch self {
        case .think: .execute
        case .execute: .integrate
        case .integrate: nil
        }
    }
}

/// The status of one step task.
public enum TaskStatus: String, CaseIterable, Sendable, Codable, Hashable {
    case pending = "PENDING"
    case running = "RUNNING"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"
}
