import Baton
@testable import BatonAPI
import Foundation
import Hummingbird
import Testing

/// The HTTP API, started for real on loopback and spoken to over HTTP.
@Suite("HTTP API")
struct APITests {
    @Test("every route: create, gate, proceed, detail, retry, cancel, list with filters and cursor, stats, health, docs; also through PgBouncer",
          arguments: DatabaseRoute.allCases)
    func routes(route: DatabaseRoute) async throws {
        let db = try await TestDatabase.create(route: route)
        try await withWorker(db, configuration: testConfiguration(maxRetries: 0)) {
            try await withAPI(db) { http, _ in
                // Create: 201, Location, the session; input numbers keep every digit.
                let created = try await http.post("/api/sessions", #"{"phases": 2, "id": "api-1", "input": {"order": 12345678901234567890}}"#)
                #expect(created.status == 201, "\(created.body)")
                #expect(created.headers["location"] == "/api/sessions/api-1")
                #expect(created.body.contains("12345678901234567890"), "\(created.body)")
                try expectMatchesSchema(created, "POST", "/api/sessions")
                try await db.awaitStatus("api-1", .awaitingProceed)

                // At the gate: progress says so, and proceed-next-phase moves it on.
                let atGate = try await http.get("/api/sessions/api-1/progress")
                #expect(atGate.status == 200 && atGate.object["canProceed"] as? Bool == true, "\(atGate.body)")
                // completedPhases is the list of finished phase numbers (the format front ends poll).
                #expect(phaseNumbers(atGate.object["completedPhases"]) == [1] && atGate.object["status"] as? String == "AWAITING_PROCEED", "\(atGate.body)")
                #expect(atGate.headers["etag"] == "\"\(atGate.object["version"] as? Int ?? -1)\"")
                try expectMatchesSchema(atGate, "GET", "/api/sessions/{id}/progress")
                let proceeded = try await http.post("/api/sessions/api-1/proceed-next-phase")
                // The worker may have claimed the next step already: PENDING or THINKING, in phase 2.
                #expect(proceeded.status == 200 && proceeded.object["phase"] as? Int == 2, "\(proceeded.body)")
                #expect(["PENDING", "THINKING"].contains(proceeded.object["status"] as? String ?? ""), "\(proceeded.body)")
                try expectMatchesSchema(proceeded, "POST", "/api/sessions/{id}/proceed-next-phase")
                try await db.awaitStatus("api-1", .completed)

                // Detail: six steps with results and their attempt history.
                let detail = try await http.get("/api/sessions/api-1")
                #expect(detail.status == 200)
                #expect(phaseNumbers((detail.object["progress"] as? [String: Any])?["completedPhases"]) == [1, 2], "\(detail.body)")
                try expectMatchesSchema(detail, "GET", "/api/sessions/{id}")
                let steps = try #require(detail.object["steps"] as? [[String: Any]])
                #expect(steps.count == 6)
                #expect(steps.allSatisfy { ($0["attempts"] as? [[String: Any]])?.first?["outcome"] as? String == "SUCCEEDED" })
                #expect(steps.allSatisfy { $0["result"] != nil })

                // Wrong state: 409 naming the state and where the action is allowed.
                let again = try await http.post("/api/sessions/api-1/proceed-next-phase")
                #expect(again.status == 409 && again.errorCode == "wrong_state")
                #expect(again.errorMessage.contains("COMPLETED") && again.errorMessage.contains("AWAITING_PROCEED"), "\(again.body)")
                try expectMatchesSchema(again, "POST", "/api/sessions/{id}/proceed-next-phase")

                // Retry: a session that failed (no retries configured) resumes from its failed step.
                let failing = try await http.post("/api/sessions", #"{"phases": 1, "id": "api-fail", "kind": "flaky", "input": {"failAttempts": 1, "failSteps": ["THINK"]}}"#)
                #expect(failing.status == 201)
                try await db.awaitStatus("api-fail", .failed)
                let retried = try await http.post("/api/sessions/api-fail/retry")
                #expect(retried.status == 200 && retried.object["error"] == nil, "\(retried.body)")
                #expect(["PENDING", "THINKING"].contains(retried.object["status"] as? String ?? ""), "\(retried.body)")
                try expectMatchesSchema(retried, "POST", "/api/sessions/{id}/retry")
                try await db.awaitStatus("api-fail", .completed)

                // Cancel.
                #expect(try await http.post("/api/sessions", #"{"phases": 3, "id": "api-cancel", "kind": "flaky"}"#).status == 201)
                let cancelled = try await http.post("/api/sessions/api-cancel/cancel")
                #expect(cancelled.status == 200 && cancelled.object["status"] as? String == "CANCELLED", "\(cancelled.body)")
                try expectMatchesSchema(cancelled, "POST", "/api/sessions/{id}/cancel")

                // List: filter by status and kind, page with a cursor that never repeats or skips.
                let completed = try await http.get("/api/sessions?status=COMPLETED")
                let ids = ((completed.object["sessions"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
                #expect(Set(ids) == ["api-1", "api-fail"], "\(completed.body)")
                try expectMatchesSchema(completed, "GET", "/api/sessions")
                let flaky = try await http.get("/api/sessions?kind=flaky")
                #expect(((flaky.object["sessions"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }.sorted() == ["api-cancel", "api-fail"])
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let page = try await http.get("/api/sessions?limit=2" + (cursor.map { "&cursor=" + $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! } ?? ""))
                    #expect(page.status == 200)
                    seen += ((page.object["sessions"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
                    cursor = page.object["nextCursor"] as? String
                } while cursor != nil && seen.count < 10
                #expect(seen.sorted() == ["api-1", "api-cancel", "api-fail"], "\(seen)")

                // Stats, health, metrics, OpenAPI, dashboard.
                let stats = try await http.get("/api/stats")
                let kinds = stats.object["kinds"] as? [[String: Any]] ?? []
                #expect(kinds.map { ($0["sessions"] as? [String: Any])?["COMPLETED"] as? Int ?? 0 }.reduce(0, +) == 2, "\(stats.body)")
                try expectMatchesSchema(stats, "GET", "/api/stats")
                let health = try await http.get("/healthz")
                #expect(health.status == 200)
                try expectMatchesSchema(health, "GET", "/healthz")
                let metrics = try await http.get("/metrics")
                #expect(metrics.status == 200 && metrics.body.contains("baton_sessions{status=\"COMPLETED\"} 2.0"), "\(metrics.body.prefix(2000))")
                #expect(metrics.body.contains("baton_sessions_awaiting_proceed 0.0"))
                #expect(metrics.body.contains("baton_tasks{status=\"PENDING\"}"))
                let docs = try await http.get("/openapi.json")
                #expect(docs.status == 200 && (docs.object["openapi"] as? String)?.hasPrefix("3.") == true)
                let page = try await http.get("/")
                #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true && page.body.contains("<script"))
            }
        }
    }

    @Test("every route the server registers is in the OpenAPI document, and the document has no other")
    func openAPICoversRoutes() async throws {
        let db = try await TestDatabase.create()
        try await withAPI(db) { _, server in
            let registered = Set(server.routes.map { SchemaValidator.Operation(method: $0.method, path: $0.path) })
            let documented = try openAPIValidator().operations
            #expect(registered == documented, "only registered: \(registered.subtracting(documented)); only documented: \(documented.subtracting(registered))")
            #expect(registered.count == 21)
        }
        // Every $ref in the document points at something it defines.
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        var references: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, member) in object {
                    if key == "$ref", let target = member as? String { references.append(target) } else { collect(member) }
                }
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(document)
        let unresolved = references.filter { reference in
            var node: Any? = document
            for key in reference.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(key)] }
            return node == nil
        }
        #expect(references.count > 50 && unresolved.isEmpty, "unresolved: \(unresolved)")
    }

    @Test("errors: bad JSON says where, unknown fields, wrong types, unknown ids, 405, 413, and never a 500")
    func errors() async throws {
        let db = try await TestDatabase.create()
        try await withAPI(db, configuration: APIConfiguration(port: 0, maxBodyBytes: 4096)) { http, _ in
            let before = try await db.scalar("SELECT count(*) FROM baton.sessions")
            let cases: [(String, String, String?, Int, String, String)] = [
                ("POST", "/api/sessions", "{\"phases\": 1,\n \"input\": {\"a\": 1]}", 400, "bad_json", "line 2, column 18"),
                ("POST", "/api/sessions", "[1, 2]", 400, "bad_json", "must be a JSON object"),
                ("POST", "/api/sessions", #"{"phases": 1, "colour": "red"}"#, 400, "unknown_field", "unknown field 'colour'"),
                ("POST", "/api/sessions", #"{"phases": "two"}"#, 400, "bad_parameter", "field 'phases' must be a whole number"),
                ("POST", "/api/sessions", #"{"phases": 0}"#, 400, "bad_parameter", "from 1 to 1000"),
                ("POST", "/api/sessions", #"{"input": {}}"#, 400, "bad_parameter", "field 'phases' is required"),
                ("POST", "/api/sessions", #"{"phases": 1, "id": 7}"#, 400, "bad_parameter", "field 'id' must be a string"),
                ("POST", "/api/sessions", #"{"phases": 1, "autoSteps": "yes"}"#, 400, "bad_parameter", "must be true or false"),
                ("POST", "/api/sessions", #"{"phases": 1, "phases": 2}"#, 400, "bad_json", "appears more than once"),
                ("POST", "/api/sessions", #"{"phases": 1, "input": "\u0000"}"#, 400, "bad_json", "\\u0000"),
                ("POST", "/api/sessions", "{\"phases\": 1, \"input\": \"" + String(repeating: "x", count: 5000) + "\"}", 413, "body_too_large", "4096 bytes"),
                ("GET", "/api/sessions?status=DONE", nil, 400, "bad_parameter", "unknown status 'DONE'"),
                ("GET", "/api/sessions?limit=0", nil, 400, "bad_parameter", "limit must be"),
                ("GET", "/api/sessions?cursor=garbage", nil, 400, "bad_parameter", "cursor"),
                ("GET", "/api/sessions?colour=red", nil, 400, "bad_parameter", "unknown query parameter 'colour'"),
                ("GET", "/api/sessions/no-such-session", nil, 404, "not_found", "unknown session 'no-such-session'"),
                ("GET", "/api/sessions/%27%3B%20DROP%20TABLE%20x%3B--%20%E2%9C%93/progress", nil, 404, "not_found", "'; DROP TABLE x;-- ✓"),
                ("GET", "/api/sessions/nope/progress?wait=soon", nil, 400, "bad_parameter", "wait must be a number of seconds"),
                ("POST", "/api/sessions/nope/proceed-next-phase", nil, 404, "not_found", "unknown session 'nope'"),
                ("POST", "/api/sessions/nope/cancel", #"{"force": true}"#, 400, "unknown_field", "unknown field 'force'"),
                ("POST", "/api/tasks/987654/complete", #"{"result": 1}"#, 404, "not_found", "unknown task 987654"),
                ("POST", "/api/tasks/abc/fail", #"{"error": "x"}"#, 400, "bad_parameter", "positive whole number"),
                ("POST", "/api/tasks/1/complete", #"{}"#, 400, "bad_parameter", "field 'result' is required"),
                ("DELETE", "/api/sessions/x", nil, 405, "method_not_allowed", "use GET"),
                ("GET", "/api/nothing-here", nil, 404, "not_found", "no such route"),
            ]
            for (method, path, body, status, code, fragment) in cases {
                let reply = try await http.send(method, path, body: body)
                #expect(reply.status == status, "\(method) \(path): \(reply.status) \(reply.body)")
                #expect(reply.errorCode == code, "\(method) \(path): \(reply.body)")
                #expect(reply.errorMessage.contains(fragment), "\(method) \(path): '\(reply.errorMessage)' lacks '\(fragment)'")
                #expect(!reply.body.contains(db.url) && !reply.body.contains("postgresql://"))
            }
            let notUTF8 = try await http.send("POST", "/api/sessions", bytes: Array(#"{"phases": 1, "id": "x"#.utf8) + [0xFF, 0x22, 0x7D])
            #expect(notUTF8.status == 400 && notUTF8.errorMessage.contains("not valid UTF-8"), "\(notUTF8.body)")
            #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == before, "no bad request changed anything")
            // A session that exists can be created only once.
            #expect(try await http.post("/api/sessions", #"{"phases": 1, "id": "twice"}"#).status == 201)
            let duplicate = try await http.post("/api/sessions", #"{"phases": 1, "id": "twice"}"#)
            #expect(duplicate.status == 409, "\(duplicate.body)")
            try expectMatchesSchema(duplicate, "POST", "/api/sessions")
        }
    }

    @Test("with a token set every /api call needs it (401 without or with a wrong one); the read-only token reads and gets 403 on changes; health, metrics and the document stay open")
    func token() async throws {
        let db = try await TestDatabase.create()
        let configuration = APIConfiguration(port: 0, token: "s3cret-token", readToken: "re4d-only")
        try await withAPI(db, configuration: configuration) { http, _ in
            let missing = try await http.post("/api/sessions", #"{"phases": 1}"#)
            #expect(missing.status == 401 && missing.errorCode == "unauthorized" && missing.headers["www-authenticate"] == "Bearer")
            try expectMatchesSchema(missing, "POST", "/api/sessions")
            let wrong = try await http.post("/api/sessions", #"{"phases": 1}"#, headers: ["Authorization": "Bearer s3cret-tokeN"])
            #expect(wrong.status == 401 && !wrong.body.contains("s3cret"))
            let readOnly = try await http.post("/api/sessions", #"{"phases": 1}"#, headers: ["Authorization": "Bearer re4d-only"])
            #expect(readOnly.status == 403 && readOnly.errorCode == "forbidden", "\(readOnly.body)")
            try expectMatchesSchema(readOnly, "POST", "/api/sessions")
            #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == "0")
            let right = try await http.post("/api/sessions", #"{"phases": 1, "id": "t"}"#, headers: ["Authorization": "Bearer s3cret-token"])
            #expect(right.status == 201)

            // Session inputs and results are user data: reads need a token too.
            for path in ["/api/sessions/t", "/api/sessions/t/progress", "/api/sessions", "/api/stats", "/api/schedules", "/api/watches"] {
                let anonymous = try await http.get(path)
                #expect(anonymous.status == 401 && anonymous.errorCode == "unauthorized", "\(path): \(anonymous.status)")
                #expect(try await http.get(path, headers: ["Authorization": "Bearer nope"]).status == 401, "\(path)")
                #expect(try await http.get(path, headers: ["Authorization": "Bearer re4d-only"]).status == 200, "\(path)")
                #expect(try await http.get(path, headers: ["Authorization": "bearer s3cret-token"]).status == 200, "\(path)")
            }
            try expectMatchesSchema(try await http.get("/api/sessions/t"), "GET", "/api/sessions/{id}")
            for path in ["/healthz", "/metrics", "/openapi.json", "/"] {
                #expect(try await http.get(path).status == 200, "\(path) stays open")
            }
            #expect(try await http.post("/api/sessions/t/cancel", headers: ["Authorization": "Bearer re4d-only"]).status == 403)
            #expect(try await db.status("t") == "PENDING")
        }
    }

    @Test("the access rules: every method and path against no token, a wrong one, the read-only one and the full one")
    func accessRules() {
        let both = AccessPolicy(fullToken: "full", readToken: "read")
        let fullOnly = AccessPolicy(fullToken: "full", readToken: nil)
        let open = AccessPolicy(fullToken: nil, readToken: "")
        #expect(open.isOpen && !both.isOpen && !fullOnly.isOpen)
        for reads in [true, false] {
            for path in ["/api/sessions", "/api/sessions/x/progress", "/healthz", "/metrics", "/openapi.json", "/", "/nowhere"] {
                let isOpenPath = reads && AccessPolicy.openPaths.contains(path)
                for header in [nil, "", "Bearer", "Bearer ", "Basic full", "Bearer fulll", "Bearer ful", "Bearer read", "Bearer full", "BEARER full", "bearer read"] {
                    #expect(open.decide(reads: reads, path: path, authorization: header) == .allow)
                    let presented = header.flatMap { $0.lowercased().hasPrefix("bearer ") ? String($0.dropFirst(7)) : nil }
                    let expected: AccessPolicy.Decision
                    if isOpenPath || presented == "full" {
                        expected = .allow
                    } else if presented == nil {
                        expected = .missing
                    } else if presented == "read" {
                        expected = reads ? .allow : .readOnly
                    } else {
                        expected = .wrong
                    }
                    #expect(both.decide(reads: reads, path: path, authorization: header) == expected, "\(reads) \(path) \(header ?? "-")")
                    let withoutRead: AccessPolicy.Decision = expected == .readOnly || (presented == "read" && expected == .allow && !isOpenPath) ? .wrong : expected
                    #expect(fullOnly.decide(reads: reads, path: path, authorization: header) == withoutRead, "\(reads) \(path) \(header ?? "-")")
                }
            }
        }
        #expect(AccessPolicy.equal(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AccessPolicy.equal(Array("abc".utf8), Array("abd".utf8)))
        #expect(!AccessPolicy.equal(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!AccessPolicy.equal([], Array("a".utf8)))
        #expect(AccessPolicy.equal([], []))
    }

    @Test("503 with a clear message when the database cannot be reached; no URL or password in the body")
    func databaseUnreachable() async throws {
        let db = try await TestDatabase.create()
        let deadURL = "postgresql://baton:hunter2-secret@127.0.0.1:\(try freePort())/nowhere?connect_timeout=2"
        let deadPool = ConnectionPool(settings: try ConnectionSettings(deadURL), maxConnections: 2)
        try await withAPI(db, pool: deadPool) { http, _ in
            for (method, path, template) in [("GET", "/healthz", "/healthz"), ("GET", "/api/sessions", "/api/sessions"),
                                             ("GET", "/api/sessions/x/progress", "/api/sessions/{id}/progress")] {
                let reply = try await http.send(method, path)
                #expect(reply.status == 503 && reply.errorCode == "database_unavailable", "\(path): \(reply.body)")
                #expect(!reply.body.contains("hunter2") && !reply.body.contains("postgresql://"), "\(reply.body)")
                try expectMatchesSchema(reply, method, template)
            }
            let metrics = try await http.get("/metrics")
            #expect(metrics.status == 200 && metrics.body.contains("baton_database_up 0.0"))
        }
    }

    @Test("100 concurrent requests through a pool of 5 all succeed; with no connection free in time, 503 says so")
    func poolExhaustion() async throws {
        let db = try await TestDatabase.create()
        _ = try await db.createSession(kind: "idle")
        let pool = ConnectionPool(settings: db.settings, maxConnections: 5, acquireTimeoutMs: 30_000)
        try await withAPI(db, pool: pool) { http, _ in
            let replies = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 { group.addTask { try await http.get("/api/sessions?kind=idle").status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(replies.count == 100 && replies.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: replies) { $0 }.mapValues(\.count))")
        }
        // One connection, held elsewhere: the request waits its limit, then gets a clear 503.
        let tiny = ConnectionPool(settings: db.settings, maxConnections: 1, acquireTimeoutMs: 200)
        try await withAPI(db, pool: tiny) { http, _ in
            let (held, release) = AsyncStream.makeStream(of: Void.self)
            let (taken, announce) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await tiny.withConnection { _ in
                    announce.yield()
                    for await _ in held { break }
                }
            }
            var iterator = taken.makeAsyncIterator()
            _ = await iterator.next()
            let reply = try await http.get("/api/sessions")
            #expect(reply.status == 503 && reply.errorCode == "database_unavailable", "\(reply.body)")
            #expect(reply.errorMessage.contains("no database connection became free in time"), "\(reply.body)")
            release.yield()
            try await holder.value
            #expect(try await http.get("/api/sessions").status == 200, "served again once the connection is back")
        }
    }

    @Test("a waiting progress request returns when the session changes, with the new state; also through PgBouncer",
          arguments: DatabaseRoute.allCases)
    func longPoll(route: DatabaseRoute) async throws {
        let db = try await TestDatabase.create(route: route)
        try await withAPI(db) { http, server in
            #expect(try await http.post("/api/sessions", #"{"phases": 1, "id": "lp"}"#).status == 201)
            let first = try await http.get("/api/sessions/lp/progress")
            let version = try #require(first.object["version"] as? Int)
            let etag = try #require(first.headers["etag"])

            // Unchanged: `since` gets 200 with the same version at the end of the wait;
            // If-None-Match gets 304.
            let quiet = try await http.get("/api/sessions/lp/progress?wait=0.2&since=\(version)")
            #expect(quiet.status == 200 && quiet.object["version"] as? Int == version)
            let notModified = try await http.get("/api/sessions/lp/progress?wait=0.2", headers: ["If-None-Match": etag])
            #expect(notModified.status == 304 && notModified.headers["etag"] == etag)
            // A version the caller has not seen yet answers at once.
            let stale = try await http.get("/api/sessions/lp/progress?wait=60&since=\(version - 1)")
            #expect(stale.status == 200 && stale.object["version"] as? Int == version)

            // Changed while waiting: the request returns with the new state.
            async let waited = http.get("/api/sessions/lp/progress?wait=120&since=\(version)")
            try await awaitValue("the request to wait") { server.hub.waiting == 1 }
            try await db.query("SELECT baton.cancel('lp')")
            let reply = try await waited
            #expect(reply.status == 200 && reply.object["status"] as? String == "CANCELLED", "\(reply.body)")
            #expect((reply.object["version"] as? Int ?? 0) > version)
            #expect(server.hub.waiting == 0)
        }
    }
}

/// Waits until `condition` holds, checking every 10 ms (for in-process state no notification
/// announces); fails after `timeout` seconds.
func awaitValue(_ what: String, timeout: Double = 30, _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try await !condition() {
        guard Date() < deadline else { throw TestFailure("timed out after \(timeout) s waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(10))  // allowed: re-checks a condition, not a stand-in for one
    }
}

/// A JSON array of whole numbers as [Int] (nil for anything else), e.g. `completedPhases`.
private func phaseNumbers(_ value: Any?) -> [Int]? {
    guard let array = value as? [Any] else { return nil }
    let numbers = array.compactMap { $0 as? Int }
    return numbers.count == array.count ? numbers : nil
}
