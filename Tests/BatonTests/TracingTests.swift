import Baton
import Foundation
import InMemoryTracing
import Testing
import Tracing

@Suite("Tracing", .serialized)
struct TracingTests {
    @Test("each step is a span with the session's identity; an HTTP handler's request is its child and carries its traceparent; claims and commits are spans")
    func workerSpans() async throws {
        let tracer = W3CTestTracer()
        let db = try await TestDatabase.create()
        let (okID, badID, calls) = try await withTracer(tracer) {
            try await withHandlerServer { base, log in
                let registry = try HandlerRegistry.parse("traced=\(base)/ok,refused=\(base)/bad", timeoutMs: 12_000)
                let ids = try await withWorker(db, handlers: registry, configuration: testConfiguration(timeoutMs: 12_000)) {
                    let ok = try await db.createSession(kind: "traced")
                    let bad = try await db.createSession(kind: "refused")
                    try await db.awaitStatus(ok, .completed)
                    try await db.awaitStatus(bad, .failed)
                    return (ok, bad)
                }
                // The worker has stopped: every span it started has ended.
                return (ids.0, ids.1, log.all)
            }
        }
        let spans = tracer.finishedSpans
        let steps = spans.filter { $0.operationName == BatonSpans.step }
        typealias Key = BatonSpans.Attribute

        // One span per step of the three-step session, each with who and where it is.
        let okSteps = steps.filter { $0.attributes.string(Key.sessionID) == okID }
        #expect(okSteps.map { $0.attributes.string(Key.step) ?? "?" }.sorted() == ["EXECUTE", "INTEGRATE", "THINK"])
        let okDetail = try await db.client.sessionDetail(okID)
        #expect(Set(okSteps.compactMap { $0.attributes.int(Key.taskID) }) == Set(okDetail.steps.map(\.taskId)))
        for span in okSteps {
            #expect(span.kind == .consumer && span.status == nil)
            #expect(span.attributes.string(Key.kind) == "traced" && span.attributes.int(Key.phase) == 1)
            #expect(span.attributes.int(Key.attempt) == 1 && span.attributes.string(Key.outcome) == "succeeded")

            // The request to the handler service: a client span inside the step's, whose
            // context the service received as traceparent.
            let posts = spans.filter { $0.operationName == "POST" && $0.parentSpanID == span.spanID }
            try #require(posts.count == 1)
            #expect(posts[0].traceID == span.traceID && posts[0].kind == .client)
            #expect(posts[0].attributes.int("http.response.status_code") == 200)
            let call = calls.first { $0.taskID == span.attributes.int(Key.taskID) }
            #expect(call?.traceparent == "00-\(span.traceID)-\(posts[0].spanID)-01")
        }

        // A refused step: the span says it failed, and why.
        let badStep = try #require(steps.first { $0.attributes.string(Key.sessionID) == badID })
        #expect(badStep.attributes.string(Key.outcome) == "failed")
        #expect(badStep.status?.code == .error && badStep.status?.message?.contains("answered 422") == true)

        // Every step was claimed once and committed, by spans of the database calls.
        let badDetail = try await db.client.sessionDetail(badID)
        let allTasks = Set(okDetail.steps.map(\.taskId) + badDetail.steps.map(\.taskId))
        let databaseCalls = spans.filter { [BatonSpans.claim, BatonSpans.commit].contains($0.operationName) }
        #expect(databaseCalls.allSatisfy { $0.kind == .client && $0.attributes.string(Key.databaseSystem) == "postgresql" })
        #expect(databaseCalls.reduce(0) { $0 + ($1.attributes.int(Key.claimed) ?? 0) } == Int64(allTasks.count))
        let committed = spans.filter { $0.operationName == BatonSpans.commit }.flatMap { $0.attributes.int64Array(Key.taskIDs) }
        #expect(Set(committed) == allTasks)
    }

    @Test("an API request continues the caller's trace from its traceparent in a server span")
    func apiSpans() async throws {
        let tracer = W3CTestTracer()
        let db = try await TestDatabase.create()
        let id = try await db.createSession()
        let trace = W3CTestTracer.hex(bytes: 16)
        let parent = W3CTestTracer.hex(bytes: 8)
        let reply = try await withTracer(tracer) {
            // withAPI returns after the server has shut down: its spans have ended.
            try await withAPI(db) { http, _ in
                try await http.get("/api/sessions/\(id)", headers: ["traceparent": "00-\(trace)-\(parent)-01"])
            }
        }
        #expect(reply.status == 200)
        let span = try #require(tracer.finishedSpans.first { $0.kind == .server && $0.traceID == trace })
        #expect(span.parentSpanID == parent)
        #expect(span.attributes.int("http.response.status_code") == 200)
        #expect(span.attributes.string("http.route")?.hasPrefix("/api/sessions/") == true)
    }
}
