import BatonCore
import Tracing

/// The names of the spans Baton starts and of their attributes, through swift-distributed-tracing.
/// Baton only starts spans: exporting them is the application's choice (bootstrap
/// `InstrumentationSystem` with a tracer such as swift-otel's before the worker starts; with none,
/// spans cost next to nothing and nothing is sent).
public enum BatonSpans {
    /// One claim round trip that committed nothing (kind `client`).
    public static let claim = "baton.claim"
    /// One transaction committing finished steps, and claiming the next ones when it says so
    /// (`baton.claim.limit` above 0) (kind `client`).
    public static let commit = "baton.commit"
    /// Steps given back at shutdown (kind `client`).
    public static let giveBack = "baton.give_back"
    /// One attempt of one step, from its handler's start to its outcome (kind `consumer`). The
    /// handler runs inside it: a Swift handler's own spans are its children, and an HTTP handler's
    /// request is a `client` child span whose context goes out in the request's headers.
    public static let step = "baton.step"

    /// Attribute keys.
    public enum Attribute {
        public static let sessionID = "baton.session.id"
        public static let kind = "baton.kind"
        public static let phase = "baton.phase"
        public static let step = "baton.step"
        public static let attempt = "baton.attempt"
        public static let taskID = "baton.task.id"
        /// What became of an attempt: `succeeded`, `failed` or `deferred`.
        public static let outcome = "baton.step.outcome"
        /// How many steps a commit or a give-back carried.
        public static let steps = "baton.steps"
        /// The task ids a commit carried, to find the commit of a step.
        public static let taskIDs = "baton.task.ids"
        /// How many steps a claim asked for, and how many it got.
        public static let claimLimit = "baton.claim.limit"
        public static let claimed = "baton.claimed"
        public static let databaseSystem = "db.system.name"
    }
}

extension BatonSpans {
    /// The tracer in effect where this is called (a task-local one, else the bootstrapped one), or
    /// nil when there is none: the worker looks it up once at its start, so that a process that
    /// traces nothing pays for no span on the hot path (a lookup and a no-op span per step cost
    /// about 9% more worker CPU per step).
    public static func activeTracer() -> (any Tracer)? {
        let tracer = InstrumentationSystem.tracer
        return tracer is NoOpTracer ? nil : tracer
    }
}

extension Span {
    /// The step's identity as attributes (skipped when nothing records them).
    func setStepAttributes(_ step: StepContext) {
        guard isRecording else { return }
        attributes[BatonSpans.Attribute.sessionID] = step.sessionId
        attributes[BatonSpans.Attribute.kind] = step.kind
        attributes[BatonSpans.Attribute.phase] = step.phase
        attributes[BatonSpans.Attribute.step] = step.step.rawValue
        attributes[BatonSpans.Attribute.attempt] = step.attempt
        attributes[BatonSpans.Attribute.taskID] = step.taskId
    }
}
