import BatonCore
import Foundation
import Testing

@Suite struct JSONTextTests {
    @Test(arguments: [
        "{}", "[]", "null", "true", "false", "0", "-1.5e10", "\"x\"", " {\"a\": [1, 2, {\"b\": null}]} \n",
        "\"\\u00e9\\n\\\"\"", "\"h\u{e9}llo \u{1F600}\"", "[0.5, 1E-3, -0]",
    ])
    func acceptsJSON(_ text: String) {
        #expect(JSONText.isValid(text), "\(text)")
    }

    @Test(arguments: [
        "", "   ", "{", "[1,]", "{\"a\" 1}", "{'a': 1}", "nul", "01", "1.", "\"unterminated", "[1] [2]",
        "not json", "{\"a\":1,}", "\"tab\there\"", "\"\\x\"", "-", "\"\\u12\"",
    ])
    func rejectsWhatIsNotJSON(_ text: String) {
        #expect(!JSONText.isValid(text), "\(text)")
    }

    @Test func rejectsWhatJsonbCannotStore() {
        #expect(throws: JSONText.Invalid.self) { try JSONText.validate("\"a\\u0000b\"") }
        let deep = String(repeating: "[", count: JSONText.maxDepth + 2) + String(repeating: "]", count: JSONText.maxDepth + 2)
        #expect(throws: JSONText.Invalid.self) { try JSONText.validate(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(JSONText.isValid(fine))
    }

    @Test func errorsSayWhereAndWhat() {
        do {
            try JSONText.validate("{\"a\": tru}")
            Issue.record("must fail")
        } catch {
            #expect(error.offset == 6)
            #expect(error.description.contains("invalid literal"))
        }
    }

    @Test(arguments: ["plain", "quote\" and \\ backslash", "line\nbreak\ttab\u{1}", "ünïcødé 😀", ""])
    func quotedStringsRoundTrip(_ value: String) throws {
        let quoted = JSONText.quote(value)
        #expect(JSONText.isValid(quoted))
        let decoded = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String
        #expect(decoded == value)
    }

    @Test func theHandlerDocumentIsValidJSONWithTheContractFields() throws {
        let context = StepContext(taskId: 7, sessionId: "s\"1", kind: "default", phase: 2, totalPhases: 3, step: .execute,
                                  attempt: 2, inputJSON: "{\"x\": 1}", previousJSON: "{\"2.THINK\": [1]}")
        let doc = context.documentJSON
        try JSONText.validate(doc)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(doc.utf8)) as? [String: Any])
        let session = try #require(object["session"] as? [String: Any])
        #expect(session["id"] as? String == "s\"1")
        #expect(session["phase"] as? Int == 2 && session["totalPhases"] as? Int == 3)
        #expect((session["input"] as? [String: Any])?["x"] as? Int == 1)
        #expect(object["step"] as? String == "EXECUTE" && object["attempt"] as? Int == 2)
        #expect(object["kind"] as? String == "default")
        #expect(object["idempotencyKey"] as? String == "s\"1/2/EXECUTE")
        #expect((object["previous"] as? [String: Any])?["2.THINK"] != nil)
    }

    @Test func theIdempotencyKeyIsTheSameForEveryAttemptOfAStep() {
        var a = StepContext(taskId: 1, sessionId: "s", kind: "k", phase: 1, totalPhases: 1, step: .think,
                            attempt: 1, inputJSON: "{}", previousJSON: "{}")
        let first = a.idempotencyKey
        a.attempt = 5
        #expect(a.idempotencyKey == first)
        a.step = .execute
        #expect(a.idempotencyKey != first)
    }
}
