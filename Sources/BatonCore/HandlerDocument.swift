/// The one JSON document a step handler receives (see docs/design.md, "Step handlers"):
///
///     {"session": {"id", "kind", "input", "phase", "totalPhases"}, "step", "attempt",
///      "idempotencyKey", "previous": {"<phase>.<STEP>": <result>, ...}}
///
/// `previous` holds the results of the earlier steps of this phase and of the INTEGRATE
/// step of every earlier phase, keyed like "1.INTEGRATE" or "2.THINK". A session that Baton
/// created itself adds what created it: `"change"` (a watched row's change: table, key, op,
/// changes, row) or `"schedule"` (the schedule and the due time the run stands for).
public struct StepContext: Sendable, Hashable {
    public var taskId: Int64
    public var sessionId: String
    public var kind: String
    public var phase: Int
    public var totalPhases: Int
    public var step: Step
    /// The attempt number; 1 for the first run of this step, growing across retries.
    public var attempt: Int
    /// The session's input, as JSON text.
    public var inputJSON: String
    /// The earlier results, as a JSON object text.
    public var previousJSON: String
    /// What created the session when a client did not, as a JSON object text whose members join
    /// the document (`{"change": {...}}` for a watched row, `{"schedule": {...}}`); nil otherwise.
    public var originJSON: String?

    public init(taskId: Int64, sessionId: String, kind: String, phase: Int, totalPhases: Int, step: Step,
                attempt: Int, inputJSON: String, previousJSON: String, originJSON: String? = nil) {
        self.taskId = taskId
        self.sessionId = sessionId
        self.kind = kind
        self.phase = phase
        self.totalPhases = totalPhases
        self.step = step
        self.attempt = attempt
        self.inputJSON = inputJSON
        self.previousJSON = previousJSON
        self.originJSON = originJSON
    }

    /// The same on every attempt of this step, different for every other step: a handler
    /// uses it to make side effects happen once.
    public var idempotencyKey: String { "\(sessionId)/\(phase)/\(step.rawValue)" }

    /// The handler document as JSON text. The JSON fragments come from PostgreSQL's jsonb and
    /// are valid already, so the document is assembled without parsing them again.
    public var documentJSON: String {
        var doc = "{\"session\":{\"id\":"
        doc += JSONText.quote(sessionId)
        doc += ",\"kind\":" + JSONText.quote(kind)
        doc += ",\"input\":" + inputJSON
        doc += ",\"phase\":\(phase),\"totalPhases\":\(totalPhases)}"
        doc += ",\"kind\":" + JSONText.quote(kind)
        doc += ",\"step\":\"\(step.rawValue)\",\"phase\":\(phase),\"attempt\":\(attempt)"
        doc += ",\"idempotencyKey\":" + JSONText.quote(idempotencyKey)
        doc += ",\"previous\":" + previousJSON
        // PostgreSQL's jsonb text, valid already; members are copied, not re-encoded.
        if let originJSON, let members = try? JSONText.objectMembers(originJSON) {
            for (key, value) in members where !Self.ownMembers.contains(key) {
                doc += "," + JSONText.quote(key) + ":" + value
            }
        }
        return doc + "}"
    }

    /// Members the document always has; an origin never replaces them.
    static let ownMembers: Set<String> = ["session", "kind", "step", "phase", "attempt", "idempotencyKey", "previous"]
}
