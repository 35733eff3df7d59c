import Baton
import Foundation
import Hummingbird
import ServiceLifecycle
import Synchronization
import Testing

/// What the local handler server saw.
final class HandlerServerLog: Sendable {
    struct Call: Sendable {
        var path: String
        var idempotencyKey: String
        var taskID: Int64
        var attempt: Int
        var document: String
        /// The W3C trace context the request carried, if any.
        var traceparent: String?
    }

    private let calls = Mutex<[Call]>([])

    func record(_ call: Call) { calls.withLock { $0.append(call) } }
    var all: [Call] { calls.withLock { $0 } }
    func calls(to path: String) -> [Call] { all.filter { $0.path == path } }
}

func header(_ request: Request, _ lowercasedName: String) -> String? {
    request.headers.first { $0.name.canonicalName == lowercasedName }?.value
}

/// A real HTTP server on loopback playing the step handler: each path answers one way.
func withHandlerServer<T: Sendable>(_ body: @Sendable (String, HandlerServerLog) async throws -> T) async throws -> T {
    let log = HandlerServerLog()
    let router = Router()
    @Sendable func note(_ request: Request, _ path: String) async throws -> HandlerServerLog.Call {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        let call = HandlerServerLog.Call(
            path: path, idempotencyKey: header(request, "idempotency-key") ?? "",
            taskID: Int64(header(request, "baton-task-id") ?? "") ?? 0,
            attempt: Int(header(request, "baton-attempt") ?? "") ?? 0,
            document: String(buffer: buffer), traceparent: header(request, "traceparent"))
        log.record(call)
        return call
    }
    @Sendable func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
    router.post("/ok") { request, _ in
        let call = try await note(request, "/ok")
        return json(.ok, #"{"handled": "\#(call.idempotencyKey)"}"#)
    }
    router.post("/accepted") { request, _ in
        _ = try await note(request, "/accepted")
        return json(.accepted, #"{"queued": true}"#)
    }
    router.post("/bad") { request, _ in
        _ = try await note(request, "/bad")
        return json(.unprocessableContent, #"{"reason": "the input lacks a customer"}"#)
    }
    router.post("/flaky") { request, _ in
        let call = try await note(request, "/flaky")
        return call.attempt == 1 ? json(.serviceUnavailable, #"{"reason": "try later"}"#) : json(.ok, #"{"second": true}"#)
    }
    router.post("/slow") { request, _ in
        _ = try await note(request, "/slow")
        try await Task.sleep(for: .seconds(20))  // allowed: plays a service slower than WORKER_TIMEOUT
        return json(.ok, "{}")
    }
    router.post("/garbage") { request, _ in
        _ = try await note(request, "/garbage")
        return json(.ok, "<html>oops</html>")
    }
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                          onServerRunning: { portSink.yield($0.localAddress?.port ?? 0) }, logger: testLogger())
    let group = ServiceGroup(configuration: .init(services: [.init(service: app)], logger: testLogger()))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the handler server did not start") }
        defer { tasks.cancelAll() }
        return try await body("http://127.0.0.1:\(port)", log)
    }
}

@Suite("HTTP step handler")
struct HTTPHandlerTests {
    @Test("2xx JSON succeeds with an Idempotency-Key; 4xx fails at once; 5xx, bad bodies, time-outs and refused connections are retried")
    func outcomes() async throws {
        let db = try await TestDatabase.create()
        try await withHandlerServer { base, log in
            let down = "http://127.0.0.1:\(try freePort())/"
            let registry = try HandlerRegistry.parse(
                "ok=\(base)/ok,bad=\(base)/bad,flaky=\(base)/flaky,slow=\(base)/slow,garbage=\(base)/garbage,down=\(down)",
                timeoutMs: 12_000)
            // The timeout leaves room for a loaded machine (a full run on 2 cores reached a load
            // of 20, and 4 s was not enough): only /slow (20 s) may reach it.
            try await withWorker(db, handlers: registry, configuration: testConfiguration(timeoutMs: 12_000, maxRetries: 1)) {
                var ids: [String: String] = [:]
                for kind in ["ok", "bad", "flaky", "slow", "garbage", "down"] {
                    ids[kind] = try await db.createSession(kind: kind)
                }
                try await db.awaitStatus(ids["ok"]!, .completed)
                try await db.awaitStatus(ids["flaky"]!, .completed)
                for kind in ["bad", "slow", "garbage", "down"] { try await db.awaitStatus(ids[kind]!, .failed) }

                // Success: the body is the result; the key is the same on every attempt of the step.
                let ok = try await db.client.sessionDetail(ids["ok"]!)
                let okKey = "\(ids["ok"]!)/1/THINK"
                #expect(ok.steps[0].result == .object(["handled": .string(okKey)]))
                let okCalls = log.calls(to: "/ok")
                #expect(okCalls.count == 3 && okCalls[0].idempotencyKey == okKey && okCalls[0].taskID == ok.steps[0].taskId)
                #expect(okCalls[0].document.contains("\"idempotencyKey\":\"\(okKey)\""))

                // 5xx then 2xx: two attempts, one key.
                let flaky = try await db.client.sessionDetail(ids["flaky"]!)
                #expect(flaky.steps[0].attempts.map(\.outcome) == ["FAILED", "SUCCEEDED"])
                #expect(flaky.steps[0].attempts[0].error?.contains("answered 503") == true)
                let flakyThink = log.calls(to: "/flaky").filter { $0.idempotencyKey.hasSuffix("/THINK") }
                #expect(flakyThink.map(\.attempt) == [1, 2] && Set(flakyThink.map(\.idempotencyKey)).count == 1)

                // 4xx: permanent, one attempt only.
                let bad = try await db.client.sessionDetail(ids["bad"]!)
                #expect(bad.steps[0].attempts.count == 1 && log.calls(to: "/bad").count == 1)
                #expect(bad.steps[0].attempts[0].error?.contains("answered 422") == true)
                #expect(bad.steps[0].attempts[0].error?.contains("the input lacks a customer") == true)
                #expect(bad.steps[0].attempts[0].error?.contains("(permanent)") == true)

                // Retried: time-out, a body that is not JSON, nobody listening.
                for (kind, fragment) in [("slow", "timed out"), ("garbage", "not JSON"), ("down", "POST \(down) failed")] {
                    let detail = try await db.client.sessionDetail(ids[kind]!)
                    #expect(detail.steps[0].attempts.count == 2, "\(kind): \(detail.steps[0].attempts)")
                    #expect(detail.steps[0].attempts.allSatisfy { $0.error?.contains(fragment) == true }, "\(kind): \(detail.steps[0].attempts.map(\.error))")
                }
            }
        }
    }

    @Test("202: the step stays RUNNING without a worker slot until /api/tasks/{id}/complete or /fail (or the SQL functions) finish it")
    func accepted() async throws {
        let db = try await TestDatabase.create()
        try await withHandlerServer { base, log in
            let registry = try HandlerRegistry.parse("later=\(base)/accepted,ok=\(base)/ok")
            // One slot: a deferred step must not occupy it.
            try await withWorker(db, handlers: registry, configuration: testConfiguration(batchSize: 1, maxRetries: 2)) {
                try await withAPI(db) { http, _ in
                    let id = try await db.createSession(kind: "later")
                    func deferredTask(_ step: String, attempt: Int) async throws -> Int64 {
                        try await db.awaitCondition("\(step) attempt \(attempt) to be handed off") {
                            try await db.scalar("""
                                SELECT count(*) FROM baton.tasks WHERE session_id = $1 AND step = $2 AND status = 'RUNNING'
                                AND attempt = $3::int AND deferred_attempt = attempt
                                """, [id, step, String(attempt)]) == "1"
                        }
                        return try #require(log.calls(to: "/accepted").last { $0.idempotencyKey.hasSuffix("/\(step)") && $0.attempt == attempt }?.taskID)
                    }

                    let think = try await deferredTask("THINK", attempt: 1)
                    // The slot is free: another session runs to the end meanwhile.
                    let other = try await db.createSession(kind: "ok")
                    try await db.awaitStatus(other, .completed)
                    #expect(try await db.status(id) == "THINKING")

                    let completed = try await http.post("/api/tasks/\(think)/complete", #"{"result": {"plan": [1, 2, 3]}}"#)
                    #expect(completed.status == 200, "\(completed.body)")
                    try expectMatchesSchema(completed, "POST", "/api/tasks/{id}/complete")
                    let again = try await http.post("/api/tasks/\(think)/complete", #"{"result": 1}"#)
                    #expect(again.status == 409 && again.errorMessage.contains("COMPLETED"), "\(again.body)")

                    // EXECUTE: failed from outside, retried (a new 202), then completed.
                    let execute = try await deferredTask("EXECUTE", attempt: 1)
                    let failed = try await http.post("/api/tasks/\(execute)/fail", #"{"error": "the payment provider said no"}"#)
                    #expect(failed.status == 200, "\(failed.body)")
                    try expectMatchesSchema(failed, "POST", "/api/tasks/{id}/fail")
                    #expect(try await deferredTask("EXECUTE", attempt: 2) == execute)
                    #expect(try await http.post("/api/tasks/\(execute)/complete", #"{"result": "paid"}"#).status == 200)

                    // INTEGRATE: through the SQL function, as any client could.
                    let integrate = try await deferredTask("INTEGRATE", attempt: 1)
                    try await db.query("SELECT baton.complete_task($1::bigint, '{\"done\": true}')", [String(integrate)])
                    try await db.awaitStatus(id, .completed)

                    let detail = try await db.client.sessionDetail(id)
                    #expect(detail.steps.map(\.result) == [.object(["plan": .array([.number(1), .number(2), .number(3)])]), .string("paid"), .object(["done": .bool(true)])])
                    #expect(detail.steps[1].attempts.map(\.outcome) == ["FAILED", "SUCCEEDED"])
                    #expect(detail.steps[1].attempts[0].error == "the payment provider said no")
                }
            }
        }
    }

    @Test("a step accepted with 202 and never finished fails once WORKER_TIMEOUT has passed")
    func acceptedAndForgotten() async throws {
        let db = try await TestDatabase.create()
        try await withHandlerServer { base, _ in
            let registry = try HandlerRegistry.parse("later=\(base)/accepted")
            // Long enough for the 202 to arrive on a loaded machine; the deadline is what expires.
            try await withWorker(db, handlers: registry, configuration: testConfiguration(timeoutMs: 10_000, maxRetries: 1)) {
                let id = try await db.createSession(kind: "later")
                try await db.awaitStatus(id, .failed)
                let detail = try await db.client.sessionDetail(id)
                #expect(detail.steps[0].attempts.map(\.outcome) == ["FAILED", "FAILED"], "retried once, then spent")
                #expect(detail.steps[0].attempts.allSatisfy { $0.error?.contains("accepted the step (202)") == true })
            }
        }
    }
}
