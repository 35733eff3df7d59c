import Baton
import Foundation
import Testing

/// `baton api` and `baton start` as real processes.
@Suite("API processes")
struct APIProcessTests {
    /// Starts `baton <command> --port 0` and returns it with the URL it announced.
    func start(_ arguments: [String], _ db: TestDatabase, environment: [String: String] = [:]) async throws -> (BatonProcess, HTTPTestClient) {
        var env = ["DATABASE_URL": db.url, "BATON_LOG_LEVEL": "info"]
        env.merge(environment) { _, new in new }
        let process = try BatonProcess(arguments + ["--port", "0"], environment: env)
        let deadline = Date().addingTimeInterval(60)
        while true {
            if let range = process.output.range(of: #"url=http://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                let url = String(process.output[range].dropFirst("url=".count))
                return (process, HTTPTestClient(base: url, client: testHTTPClient))
            }
            guard process.isRunning, Date() < deadline else { throw TestFailure("baton did not start: \(process.output)") }
            try await Task.sleep(for: .milliseconds(50))  // allowed: polling a child's log file, which has no notification
        }
    }

    func waiting(_ http: HTTPTestClient) async throws -> Int {
        let metrics = try await http.get("/metrics").body
        guard let line = metrics.split(separator: "\n").first(where: { $0.hasPrefix("baton_api_waiting_requests ") }) else { return -1 }
        return Int(Double(line.split(separator: " ").last ?? "") ?? -1)
    }

    @Test("200 waiting long-polls share one LISTEN connection: the process stays within its pool plus the listener")
    func twoHundredWaiters() async throws {
        let db = try await TestDatabase.create()
        try await db.query("SELECT baton.create_session(1, '{}', 'w' || i, 'nobody-serves-this') FROM generate_series(1, 200) i")
        let (process, http) = try await start(["api"], db, environment: ["WORKER_DB_POOL_SIZE": "5"])
        defer { process.kill(SIGKILL) }

        let replies = Task {
            try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                for i in 1...200 {
                    group.addTask { try await http.get("/api/sessions/w\(i)/progress?wait=120&since=1") }
                }
                return try await group.reduce(into: [HTTPReply]()) { $0.append($1) }
            }
        }
        try await awaitValue("200 requests to wait", timeout: 60) { try await waiting(http) == 200 }
        let connections = try #require(Int(try await db.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'baton-test'") ?? ""))
        #expect(connections >= 1 && connections <= 5 + 1, "baton api holds \(connections) connections for 200 waiting requests")

        // One statement changes all 200 sessions: every waiting request returns with the new state.
        try await db.query("SELECT baton.cancel(id) FROM baton.sessions")
        let answered = try await replies.value
        #expect(answered.count == 200)
        #expect(answered.allSatisfy { $0.status == 200 && $0.object["status"] as? String == "CANCELLED" },
                "\(answered.first { $0.object["status"] as? String != "CANCELLED" }?.body ?? "")")

        process.kill(SIGTERM)
        #expect(await process.waitForExit() == 0, "\(process.output)")
    }

    @Test("baton start: SIGTERM answers waiting requests at once, stops, and exits 0; baton health uses /healthz")
    func gracefulStop() async throws {
        let db = try await TestDatabase.create()
        let (process, http) = try await start(["start", "--handler", "builtin:echo"], db, environment: ["BATON_SHUTDOWN_GRACE": "5000"])
        defer { process.kill(SIGKILL) }

        let created = try await http.post("/api/sessions", #"{"phases": 2, "id": "g"}"#)
        #expect(created.status == 201)
        try await db.awaitStatus("g", .awaitingProceed)
        let health = try await runBaton(["health", "--url", http.base], environment: [:])
        #expect(health.status == 0, "\(health.output)")

        let version = try #require(try await http.get("/api/sessions/g/progress").object["version"] as? Int)
        let waited = Task { try await http.get("/api/sessions/g/progress?wait=120&since=\(version)") }
        try await awaitValue("the request to wait") { try await waiting(http) == 1 }
        process.kill(SIGTERM)
        let reply = try await waited.value
        #expect(reply.status == 200 && reply.object["version"] as? Int == version, "answered with the unchanged progress")
        #expect(await process.waitForExit() == 0, "\(process.output)")
        let after = try await runBaton(["health", "--url", http.base], environment: [:])
        #expect(after.status == 1 && after.output.contains("no Baton API answers"), "\(after.output)")
    }

    @Test("a second SIGTERM during the graceful shutdown exits at once (128 + 15); the step is left to the rescuer")
    func secondSignal() async throws {
        let db = try await TestDatabase.create()
        let (process, _) = try await start(["start", "--handler", "builtin:echo"], db, environment: ["BATON_SHUTDOWN_GRACE": "600000"])
        defer { process.kill(SIGKILL) }
        let id = try await db.createSession(input: #"{"delayMs": 600000}"#)
        try await db.awaitStatus(id, .thinking)
        process.kill(SIGTERM)
        let deadline = Date().addingTimeInterval(60)
        while !process.output.contains("shutting down: no new steps") {
            guard Date() < deadline else { throw TestFailure("no graceful shutdown began: \(process.output)") }
            try await Task.sleep(for: .milliseconds(20))  // allowed: polling a child's log file, which has no notification
        }
        process.kill(SIGTERM)
        #expect(await process.waitForExit() == 128 + SIGTERM, "\(process.output)")
        #expect(try await db.scalar("SELECT status FROM baton.tasks WHERE session_id = $1", [id]) == "RUNNING",
                "not given back: the process did not wait for its step")
    }
}
