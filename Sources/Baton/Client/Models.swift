import Foundation

/// A session as clients see it.
public struct Session: Sendable, Codable, Hashable {
    public var id: String
    public var kind: String
    public var status: SessionStatus
    public var phase: Int
    public var step: Step?
    public var totalPhases: Int
    public var autoSteps: Bool
    public var autoPhases: Bool
    public var input: JSONValue
    public var error: String?
    public var version: Int64
    public var createdAt: String
    public var updatedAt: String
    /// The coalescing key of a session that a watched row's change created (the row's key).
    public var key: String?
    /// What created the session when a client did not: `{"change": {...}}` for a watched row,
    /// `{"schedule": {...}}` for a schedule. Its members join the handler document.
    public var origin: JSONValue?

    /// The derived progress.
    public var progress: SessionProgress {
        SessionProgress(.init(sessionId: id, status: status, phase: phase, step: step, totalPhases: totalPhases,
                       autoSteps: autoSteps, autoPhases: autoPhases, version: version, updatedAt: updatedAt))
    }
}

/// One step of a session, with its attempts.
public struct StepRecord: Sendable, Codable, Hashable {
    public var taskId: Int64
    public var phase: Int
    public var step: Step
    public var status: TaskStatus
    public var attempt: Int
    public var runAt: String
    public var workerId: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var result: JSONValue?
    public var error: String?
    public var attempts: [AttemptRecord]
}

/// One attempt of a step: the retry history and debug trail.
public struct AttemptRecord: Sendable, Codable, Hashable {
    public var attempt: Int
    public var workerId: String?
    /// SUCCEEDED, FAILED, RESCUED or DISCARDED.
    public var outcome: String
    public var startedAt: String?
    public var finishedAt: String
    public var input: JSONValue?
    public var output: JSONValue?
    public var error: String?
}

/// A pass through a gate (`proceed`): who let the session on, when, with what note and payload.
public struct ReviewRecord: Sendable, Codable, Hashable {
    /// The phase and step the session proceeded to; their steps got this review in their document.
    public var phase: Int
    public var step: Step
    public var reviewer: String
    public var note: String?
    public var payload: JSONValue?
    public var at: String
}

/// A session with its steps, attempts and reviews.
public struct SessionDetail: Sendable, Codable, Hashable {
    public var session: Session
    public var progress: SessionProgress
    public var steps: [StepRecord]
    /// Every pass through a gate, oldest first; kept through retries.
    public var reviews: [ReviewRecord]
}

/// The queue as `/metrics` reports it on each scrape.
public struct QueueDepth: Sendable, Codable, Hashable {
    public var sessionsByStatus: [String: Int]
    /// PENDING and RUNNING tasks.
    public var tasksByStatus: [String: Int]
    /// PENDING tasks whose time has come.
    public var readyTasks: Int
    /// Sessions waiting at the gate.
    public var awaitingProceed: Int
}
