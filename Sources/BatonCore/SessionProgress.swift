/// What a client shows about a session, derived from its stored position; never stored twice.
public struct SessionProgress: Sendable, Hashable, Codable {
    public var sessionId: String
    public var status: SessionStatus
    /// The phase whose step is queued, running, waiting at the gate, or failed; at the end,
    /// the last phase.
    public var currentPhase: Int
    /// The step queued, running, waiting, or failed; nil once COMPLETED.
    public var currentStep: Step?
    /// The numbers of the phases whose INTEGRATE step has a committed result, in order: `[]`
    /// before the first phase ends, `[1]` after phase 1, `[1, 2]` once a 2-phase session is
    /// COMPLETED. Phases finish in order, so this is always `1...n` for some n.
    public var completedPhases: [Int]
    public var totalPhases: Int
    /// The session waits at the gate: `proceed` (`baton advance`) moves it on now.
    public var canProceed: Bool
    /// The session will stop at a gate that needs a person before it completes: it waits now,
    /// or a later step or phase boundary does not advance by itself.
    public var requiresManualTrigger: Bool
    /// Changes whenever the session changes; clients compare it to see news.
    public var version: Int64
    public var updatedAt: String

    /// The stored fields a progress is derived from.
    public struct Snapshot: Sendable, Hashable {
        public var sessionId: String
        public var status: SessionStatus
        public var phase: Int
        public var step: Step?
        public var totalPhases: Int
        public var autoSteps: Bool
        public var autoPhases: Bool
        public var version: Int64
        public var updatedAt: String

        public init(sessionId: String, status: SessionStatus, phase: Int, step: Step?, totalPhases: Int,
                    autoSteps: Bool, autoPhases: Bool, version: Int64, updatedAt: String) {
            self.sessionId = sessionId
            self.status = status
            self.phase = phase
            self.step = step
            self.totalPhases = totalPhases
            self.autoSteps = autoSteps
            self.autoPhases = autoPhases
            self.version = version
            self.updatedAt = updatedAt
        }
    }

    public init(_ s: Snapshot) {
        sessionId = s.sessionId
        status = s.status
        currentPhase = s.phase
        currentStep = s.step
        totalPhases = s.totalPhases
        version = s.version
        updatedAt = s.updatedAt
        // The stored phase is the one still to finish, except once the last one is done.
        let finished = s.status == .completed ? s.totalPhases : max(0, s.phase - 1)
        completedPhases = Array(stride(from: 1, through: finished, by: 1))
        canProceed = s.status == .awaitingProceed
        requiresManualTrigger = Self.stopsAtGate(s)
    }

    private static func stopsAtGate(_ s: Snapshot) -> Bool {
        switch s.status {
        case .awaitingProceed: return true
        case .completed, .cancelled: return false
        case .pending, .thinking, .executing, .integrating, .failed:
            guard let step = s.step else { return false }
            // Steps that do not auto-advance stop after every step but the very last.
            if !s.autoSteps { return !(step == .integrate && s.phase >= s.totalPhases) }
            // Otherwise only phase boundaries can stop, and only before the last phase ends.
            return !s.autoPhases && s.phase < s.totalPhases
        }
    }
}
