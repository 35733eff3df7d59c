import Baton

extension StepContext {
    /// A step context for a handler test, with defaults for everything a test does not care
    /// about: the first attempt of phase 1's THINK of a one-phase session of kind "default".
    /// `inputJSON`, `previousJSON` and `originJSON` must be JSON (an object, for the last two).
    public static func forTest(
        kind: String = "default", inputJSON: String = "{}", step: Step = .think, phase: Int = 1, totalPhases: Int? = nil,
        attempt: Int = 1, previousJSON: String = "{}", originJSON: String? = nil,
        sessionID: String = "test-session", taskID: Int64 = 1
    ) throws -> StepContext {
        try requireJSON(inputJSON, "inputJSON")
        try requireJSON(previousJSON, "previousJSON", object: true)
        if let originJSON { try requireJSON(originJSON, "originJSON", object: true) }
        guard phase >= 1, attempt >= 1 else {
            throw BatonTestingError("phase and attempt count from 1 (got phase \(phase), attempt \(attempt))")
        }
        return StepContext(taskId: taskID, sessionId: sessionID, kind: kind, phase: phase,
                           totalPhases: max(totalPhases ?? phase, phase), step: step, attempt: attempt,
                           inputJSON: inputJSON, previousJSON: previousJSON, originJSON: originJSON)
    }

    /// Reads a handler document (docs/design.md, "Step handlers"): `session` (`id`, `kind`,
    /// `input`, `phase`, `totalPhases`), `step`, `attempt`, `previous`; any other member (a
    /// watch's `change`, a schedule's `schedule`) becomes the origin. JSON values are kept as
    /// written. Throws a `BatonTestingError` naming what is missing or wrong.
    public init(document: String) throws {
        func fail(_ what: String) -> BatonTestingError {
            BatonTestingError("the handler document \(what); it must look like {\"session\": {\"id\": \"s-1\", \"kind\": \"default\", \"input\": {}, \"phase\": 1, \"totalPhases\": 1}, \"step\": \"THINK\", \"attempt\": 1, \"previous\": {}}")
        }
        let members: [(key: String, value: Substring)]
        do {
            guard let read = try JSONText.objectMembers(document) else { throw fail("is not a JSON object") }
            members = read
        } catch let error as JSONText.Invalid {
            throw fail("is not valid JSON (\(error))")
        }
        func member(_ name: String, in list: [(key: String, value: Substring)]) -> Substring? {
            list.last { $0.key == name }?.value
        }
        guard let sessionText = member("session", in: members),
              let session = try? JSONText.objectMembers(String(sessionText)) else {
            throw fail("has no \"session\" object")
        }
        func string(_ raw: Substring?, _ name: String) throws -> String {
            guard let raw, raw.count >= 2, raw.first == "\"", raw.last == "\"" else { throw fail("has no string \(name)") }
            return JSONText.unescape(raw.dropFirst().dropLast())
        }
        func int(_ raw: Substring?, _ name: String) throws -> Int {
            guard let raw, let value = Int(raw), value >= 1 else { throw fail("has no positive whole number \(name)") }
            return value
        }
        let stepName = try string(member("step", in: members), "step")
        guard let step = Step(rawValue: stepName) else {
            throw fail("names the step '\(stepName)', which is none of THINK, EXECUTE, INTEGRATE")
        }
        let previous = member("previous", in: members).map(String.init) ?? "{}"
        guard (try? JSONText.objectMembers(previous)) != nil else { throw fail("has a \"previous\" that is not an object") }
        var origin: [String] = []
        for (key, value) in members where !StepContext.documentMembers.contains(key) {
            origin.append(JSONText.quote(key) + ":" + value)
        }
        let phase = try int(member("phase", in: session), "session.phase")
        self.init(
            taskId: 0, sessionId: try string(member("id", in: session), "session.id"),
            kind: try string(member("kind", in: session) ?? member("kind", in: members), "session.kind"),
            phase: phase, totalPhases: (try? int(member("totalPhases", in: session), "")) ?? phase, step: step,
            attempt: (try? int(member("attempt", in: members), "")) ?? 1,
            inputJSON: member("input", in: session).map(String.init) ?? "{}", previousJSON: previous,
            originJSON: origin.isEmpty ? nil : "{" + origin.joined(separator: ",") + "}")
    }

    /// The members every document has (`StepContext.documentJSON` writes them); others are origin.
    static let documentMembers: Set<String> = ["session", "kind", "step", "phase", "attempt", "idempotencyKey", "previous"]

    private static func requireJSON(_ text: String, _ name: String, object: Bool = false) throws {
        do {
            if try JSONText.objectMembers(text) == nil, object {
                throw BatonTestingError("\(name) must be a JSON object, got \(text.prefix(100))")
            }
        } catch let error as JSONText.Invalid {
            throw BatonTestingError("\(name) is not valid JSON (\(error)): \(text.prefix(100))")
        }
    }
}
