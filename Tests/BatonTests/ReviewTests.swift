import Baton
import Foundation
import Synchronization
import Testing

/// The handler documents a handler saw, by "<phase>.<STEP>", each attempt's in order.
final class DocumentLog: Sendable {
    private let documents = Mutex<[String: [String]]>([:])

    func record(_ step: StepContext) {
        documents.withLock { $0["\(step.phase).\(step.step.rawValue)", default: []].append(step.documentJSON) }
    }

    func review(_ key: String, attempt: Int = 0) -> [String: Any]? {
        guard let text = documents.withLock({ $0[key]?[attempt] }),
              let document = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return document["review"] as? [String: Any]
    }

    func attempts(_ key: String) -> Int { documents.withLock { $0[key]?.count ?? 0 } }
}

@Suite("Review at the gate")
struct ReviewTests {
    @Test("proceed with a note and payload: stored with who and when, in the history, and handed to every step of the next phase")
    func reviewReachesNextPhase() async throws {
        let db = try await TestDatabase.create()
        let log = DocumentLog()
        let handlers = HandlerRegistry(ClosureHandler { step in log.record(step); return "{}" })
        try await withWorker(db, handlers: handlers) {
            let id = try await db.createSession(phases: 2)
            try await db.awaitStatus(id, .awaitingProceed)
            _ = try await db.client.proceed(id, note: "tone it down", payloadJSON: #"{"tone": "formal"}"#, reviewer: "alice")
            try await db.awaitStatus(id, .completed)

            for key in ["1.THINK", "1.EXECUTE", "1.INTEGRATE"] { #expect(log.review(key) == nil) }
            for key in ["2.THINK", "2.EXECUTE", "2.INTEGRATE"] {
                let review = try #require(log.review(key), "\(key) got no review")
                #expect(review["note"] as? String == "tone it down" && review["reviewer"] as? String == "alice")
                #expect((review["payload"] as? [String: Any])?["tone"] as? String == "formal")
                #expect(review["phase"] as? Int == 2 && review["step"] as? String == "THINK" && review["at"] is String)
            }
            let detail = try await db.client.sessionDetail(id)
            #expect(detail.reviews.count == 1)
            let stored = try #require(detail.reviews.first)
            #expect(stored.reviewer == "alice" && stored.note == "tone it down" && stored.phase == 2 && stored.step == .think)
            #expect(stored.payload == .object(["tone": .string("formal")]))
        }
    }

    @Test("a review survives a retry: the step after the gate that failed runs again with it; without a reviewer the database user is recorded")
    func reviewSurvivesRetry() async throws {
        let db = try await TestDatabase.create()
        let log = DocumentLog()
        let handlers = HandlerRegistry(ClosureHandler { step in
            log.record(step)
            if step.phase == 2 && step.step == .think && log.attempts("2.THINK") == 1 {
                throw StepFailure("the service said no", permanent: true)
            }
            return "{}"
        })
        try await withWorker(db, handlers: handlers) {
            let id = try await db.createSession(phases: 2)
            try await db.awaitStatus(id, .awaitingProceed)
            try await db.query("SELECT baton.proceed($1, 'ship it')", [id])
            try await db.awaitStatus(id, .failed)
            _ = try await db.client.retry(id)
            try await db.awaitStatus(id, .completed)

            #expect(log.attempts("2.THINK") == 2)
            #expect(log.review("2.THINK", attempt: 1)?["note"] as? String == "ship it")
            #expect(log.review("2.THINK", attempt: 1)?["reviewer"] as? String == "postgres")
            let detail = try await db.client.sessionDetail(id)
            #expect(detail.reviews.map(\.note) == ["ship it"])
        }
    }

    @Test("a step gate (auto-steps off) hands its review to the steps after it; a bad review is refused and the session still waits")
    func stepGatesAndBadReviews() async throws {
        let db = try await TestDatabase.create()
        let log = DocumentLog()
        let handlers = HandlerRegistry(ClosureHandler { step in log.record(step); return "{}" })
        try await withWorker(db, handlers: handlers) {
            let id = try await db.createSession(phases: 1, autoSteps: false)
            try await db.awaitStatus(id, .awaitingProceed)

            await #expect(throws: BatonError.self) {
                _ = try await db.client.proceed(id, note: String(repeating: "x", count: 10_001))
            }
            await #expect(throws: BatonError.self) {
                _ = try await db.client.proceed(id, payloadJSON: "{not json")
            }
            #expect(try await db.client.session(id).status == .awaitingProceed)
            #expect(try await db.client.sessionDetail(id).reviews.isEmpty)

            _ = try await db.client.proceed(id, note: "first gate", reviewer: "bob")
            try await db.awaitStatus(id, .awaitingProceed)
            _ = try await db.client.proceed(id, note: "second gate", reviewer: "bob")
            try await db.awaitStatus(id, .completed)
            #expect(log.review("1.THINK") == nil)
            #expect(log.review("1.EXECUTE")?["note"] as? String == "first gate")
            #expect(log.review("1.INTEGRATE")?["note"] as? String == "second gate")
        }
    }

    @Test("POST proceed-next-phase takes the review as its body; the detail lists it; a bad review is refused and changes nothing")
    func api() async throws {
        let db = try await TestDatabase.create()
        try await withWorker(db) {
            let id = try await db.createSession(phases: 2)
            try await db.awaitStatus(id, .awaitingProceed)
            try await withAPI(db) { http, _ in
                let path = "/api/sessions/\(id)/proceed-next-phase"
                let unknown = try await http.post(path, #"{"comment": "x"}"#)
                #expect(unknown.status == 400 && unknown.errorCode == "unknown_field", "\(unknown.body)")
                let long = try await http.post(path, "{\"note\": \"\(String(repeating: "n", count: 10_001))\"}")
                #expect(long.status == 400 && long.errorCode == "bad_parameter", "\(long.body)")
                #expect(try await db.client.sessionDetail(id).reviews.isEmpty)

                let proceeded = try await http.post(path, #"{"note": "fine", "payload": {"go": true}}"#)
                #expect(proceeded.status == 200, "\(proceeded.body)")
                try await db.awaitStatus(id, .completed)
                let detail = try await http.get("/api/sessions/\(id)")
                try expectMatchesSchema(detail, "GET", "/api/sessions/{id}")
                let reviews = detail.object["reviews"] as? [[String: Any]] ?? []
                #expect(reviews.count == 1 && reviews.first?["reviewer"] as? String == "api" && reviews.first?["note"] as? String == "fine",
                        "\(detail.body)")
            }
        }
    }

    @Test("baton advance --note --input --reviewer records the review, session show lists it, and advancing a finished session says why not")
    func cli() async throws {
        let db = try await TestDatabase.create()
        try await withWorker(db) {
            let id = try await db.createSession(phases: 2)
            try await db.awaitStatus(id, .awaitingProceed)
            let advanced = try await runBaton(["advance", id, "--note", "use the Q3 numbers", "--input", #"{"quarter": 3}"#,
                                               "--reviewer", "carol"], environment: db.environment)
            #expect(advanced.status == 0, "\(advanced.output)")
            try await db.awaitStatus(id, .completed)
            let shown = try await runBaton(["session", "show", id], environment: db.environment)
            #expect(shown.output.contains("gate: proceeded to 2.THINK by carol"), "\(shown.output)")
            #expect(shown.output.contains("use the Q3 numbers") && shown.output.contains(#""quarter":3"#), "\(shown.output)")

            let again = try await runBaton(["advance", id], environment: db.environment)
            #expect(again.status == 4)
            #expect(again.output.contains("cannot advance session '\(id)': it is COMPLETED"), "\(again.output)")
            #expect(!again.output.contains("proceed is allowed"), "\(again.output)")
        }
    }

    @Test("baton progress --watch prints each change and ends at a gate; --through-gates waits there for an advance from elsewhere and ends with the session")
    func watchProgress() async throws {
        let db = try await TestDatabase.create()
        try await withWorker(db) {
            let id = try await db.createSession(phases: 2)
            try await db.awaitStatus(id, .awaitingProceed)
            // At the gate --watch ends (exit 0); --through-gates keeps following.
            let atGate = try await runBaton(["progress", "--watch", id], environment: db.environment)
            #expect(atGate.status == 0 && atGate.output.contains("AWAITING_PROCEED"), "\(atGate.output)")
            let watch = try BatonProcess(["progress", "--watch", "--through-gates", id], environment: db.environment)
            defer { watch.kill() }
            try await watch.awaitOutput("AWAITING_PROCEED")
            _ = try await db.client.proceed(id)
            #expect(await watch.waitForExit() == 0)
            #expect(watch.output.contains("COMPLETED"), "\(watch.output)")

            // An ended session: printed once; exit 0 for COMPLETED, 1 for CANCELLED (or FAILED).
            let finished = try await db.createSession(phases: 1)
            try await db.awaitStatus(finished, .completed)
            let done = try await runBaton(["progress", "--watch", finished], environment: db.environment)
            #expect(done.status == 0 && done.output.contains("COMPLETED"))
            let stopped = try await db.createSession(phases: 2)
            try await db.awaitStatus(stopped, .awaitingProceed)
            _ = try await db.client.cancel(stopped)
            let cancelled = try await runBaton(["progress", "--watch", stopped], environment: db.environment)
            #expect(cancelled.status == 1 && cancelled.output.contains("CANCELLED"))
        }
    }
}
