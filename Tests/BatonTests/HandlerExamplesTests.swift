import Baton
import Foundation
import Testing

/// The handler examples under examples/handlers do what docs/handlers.md says: a real worker
/// takes sessions through each of them to COMPLETED with the results the example promises, and
/// a step delivered again (as after a crash) makes no second side effect.
// Serialized: each test runs workers and handler processes; one at a time keeps the suite
// from crowding a small machine while the other suites run.
@Suite(.serialized) struct HandlerExamplesTests {
    static let examples = TestEnvironment.repository + "/examples/handlers"

    /// Node.js, which scripts/test installs when missing.
    var node: String {
        get throws {
            guard let path = ProcessInfo.processInfo.environment["BATON_TEST_NODE"] else {
                throw TestFailure("BATON_TEST_NODE is not set: run the tests with scripts/test, which installs Node.js")
            }
            return path
        }
    }

    @Test("Python: one report per phase, published once per step")
    func python() async throws {
        let folder = try scratchFolder()
        let command = [try TestEnvironment.python, Self.examples + "/python/step.py", folder]
        let (db, id) = try await runSession(command, phases: 2, input: #"{"topic": "Quarterly report", "sections": ["Sales", "Costs"]}"#)
        let steps = try await db.client.sessionDetail(id).steps
        func result(_ phase: Int, _ step: Step) throws -> JSONValue {
            try #require(steps.first { $0.phase == phase && $0.step == step }?.result)
        }
        let first = try result(1, .integrate), second = try result(2, .integrate)
        #expect(first["phase"] == .number(1) && second["phase"] == .number(2))
        let reports = try markdownFiles(folder)
        #expect(reports.count == 2, "one report per phase: \(reports)")
        for published in [first, second] {
            guard case .string(let path)? = published["report"] else { Issue.record("no report in \(published)"); continue }
            #expect(reports.contains(path))
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.contains("# Quarterly report") && text.contains("## Quarterly report: Costs"), "\(text)")
        }
        // Phase 2 builds on phase 1's report, which `previous` carried.
        guard case .string(let firstReport)? = first["report"] else { return }
        #expect(try result(2, .think)["outline"] == .array([
            .string("Quarterly report: Sales"), .string("Quarterly report: Costs"),
            .string("Changes since \(URL(fileURLWithPath: firstReport).lastPathComponent)"),
        ]))

        let written = try reports.map(fileNumber)  // a publication replaces the file: a new inode
        let (output, committed) = try await replayExecute(db, id, command)
        #expect(output == committed, "the same step again answers the first receipt")
        #expect(try markdownFiles(folder) == reports && reports.map(fileNumber) == written, "and publishes nothing again")
    }

    @Test("Node.js: an order charged once; bad input fails the session with the handler's message")
    func nodeJS() async throws {
        let folder = try scratchFolder()
        let command = [try node, Self.examples + "/node/step.js", folder]
        let (db, id) = try await runSession(
            command, input: #"{"order": "A-1001", "customer": "c-42", "amountCents": 1250, "currency": "EUR"}"#)
        let steps = try await db.client.sessionDetail(id).steps
        let charge = try #require(steps.first { $0.step == .execute }?.result)
        let receipt = try #require(steps.first { $0.step == .integrate }?.result)
        #expect(receipt["receipt"] == .string("A-1001: 12.50 EUR charged"))
        #expect(receipt["chargeId"] != nil && receipt["chargeId"] == charge["chargeId"])
        let ledger = folder + "/ledger.jsonl"
        #expect(try lines(ledger).count == 1)

        let (output, committed) = try await replayExecute(db, id, command)
        #expect(output == committed, "the same step again answers the first charge")
        #expect(try lines(ledger).count == 1, "and charges nothing new")

        let bad = try await db.createSession(input: #"{"order": "A-1002"}"#)
        try await withWorker(db, handlers: try registry(command)) {
            try await db.awaitStatus(bad, .failed)
        }
        let error = try await db.scalar("SELECT error FROM baton.sessions WHERE id = $1", [bad])
        #expect(error?.contains(#"the session input needs "order" and "customer""#) == true, "\(error ?? "")")
        #expect(try lines(ledger).count == 1)
    }

    @Test("POSIX sh: each phase delivered to the drop folder once, even when the partner took it meanwhile")
    func shell() async throws {
        let folder = try scratchFolder()
        let command = [Self.examples + "/shell/step.sh", folder]
        let (db, id) = try await runSession(command, input: #"{"invoice": 77}"#)
        let steps = try await db.client.sessionDetail(id).steps
        let planned = try #require(steps.first { $0.step == .think }?.result?["file"])
        guard case .string(let file) = planned else { throw TestFailure("THINK named no file: \(planned)") }
        #expect(steps.first { $0.step == .execute }?.result?["delivered"] == planned)
        #expect(steps.first { $0.step == .integrate }?.result == .object(["file": planned, "waiting": .bool(true)]))
        #expect(try visibleFiles(folder) == [file])
        let delivered = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
        #expect(delivered.contains(#""invoice": 77"#) && delivered.contains(#""step":"EXECUTE""#), "\(delivered)")

        // The partner picks the file up; then the step comes again: the record answers.
        try FileManager.default.removeItem(atPath: folder + "/" + file)
        let (output, committed) = try await replayExecute(db, id, command)
        #expect(output == committed)
        #expect(try visibleFiles(folder).isEmpty, "not delivered a second time")
    }

    @Test("HTTP 202: the server takes each step on, finishes it through the API, and the session completes")
    func http202() async throws {
        let db = try await TestDatabase.create()
        try await withAPI(db) { http, _ in
            let server = try BatonProcess(
                program: try TestEnvironment.python, [Self.examples + "/http-202/server.py", "--port", "0", "--api", http.base])
            do {
                try await server.awaitOutput("listening on ")
                let url = try #require(server.output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("http://") })
                let id = try await db.createSession(input: #"{"text": "Baton runs steps. Steps hand work off. The work finishes later!"}"#)
                try await withWorker(db, handlers: try HandlerRegistry.parse(String(url))) {
                    try await db.awaitStatus(id, .completed)
                }
                let steps = try await db.client.sessionDetail(id).steps
                #expect(steps.map(\.result) == [
                    .object(["sentences": .number(3)]),
                    .object(["topWords": .array([.string("steps"), .string("work"), .string("baton")])]),
                    .object(["summary": .string("3 sentence(s), mostly about steps, work, baton")]),
                ])
                #expect(steps.allSatisfy { $0.attempts.map(\.outcome) == ["SUCCEEDED"] }, "\(steps.map(\.attempts))")
                // Each step was taken on with 202 and completed through the API, not answered at once.
                for step in ["THINK", "EXECUTE", "INTEGRATE"] {
                    #expect(server.output.contains("accepted \(id)/1/\(step) as task"), "\(server.output)")
                    #expect(server.output.contains("completed \(id)/1/\(step) (API answered 200)"), "\(server.output)")
                }
            } catch {
                server.kill()
                _ = await server.waitForExit()
                throw error
            }
            server.kill()
            _ = await server.waitForExit()
        }
    }

    @Test("Swift: the embedded worker credits points once per order, fails bad input at once, and stops on SIGTERM")
    func swift() async throws {
        let binary = URL(fileURLWithPath: TestEnvironment.batonBinary).deletingLastPathComponent()
            .appendingPathComponent("ExampleSwiftWorker").path
        let db = try await TestDatabase.create()
        let worker = try BatonProcess(program: binary, [], environment: db.environment)
        do {
            let first = try await db.createSession(input: #"{"customer": "c-42", "orderCents": 4250}"#)
            let second = try await db.createSession(input: #"{"customer": "c-42", "orderCents": 1999}"#)
            let bad = try await db.createSession(input: #"{"customer": "c-42"}"#)
            for id in [first, second] { try await db.awaitStatus(id, .completed) }
            try await db.awaitStatus(bad, .failed)

            let ledger = try await db.query(
                "SELECT idempotency_key, points FROM example_loyalty_points ORDER BY idempotency_key").records
            #expect(Set(ledger.map { $0["idempotency_key"] ?? "" }) == ["\(first)/1/EXECUTE", "\(second)/1/EXECUTE"])
            #expect(Set(ledger.map { $0["points"] ?? "" }) == ["42", "19"])
            let balances = try await db.query(
                "SELECT result->>'balance' AS balance FROM baton.tasks WHERE step = 'INTEGRATE' AND session_id IN ($1, $2)",
                [first, second]).records.compactMap { $0["balance"] }
            #expect(balances.contains("61"), "the later INTEGRATE sees both credits: \(balances)")
            let attempts = try await db.scalar("SELECT count(*) FROM baton.attempts WHERE session_id = $1", [bad])
            #expect(attempts == "1", "a permanent failure is not retried")
            #expect(try await db.scalar("SELECT error FROM baton.sessions WHERE id = $1", [bad])?.contains("orderCents") == true)
        } catch {
            worker.kill()
            _ = await worker.waitForExit()
            throw error
        }
        worker.kill(SIGTERM)
        #expect(await worker.waitForExit() == 0, "\(worker.output)")
    }

    // MARK: helpers

    func registry(_ command: [String]) throws -> HandlerRegistry {
        try HandlerRegistry.parse("command:" + command.joined(separator: " "))
    }

    /// A session of `phases` phases (moving on by themselves) through the command handler, to COMPLETED.
    func runSession(_ command: [String], phases: Int = 1, input: String) async throws -> (TestDatabase, String) {
        let db = try await TestDatabase.create()
        let id = try await db.createSession(phases: phases, input: input, autoPhases: true)
        try await withWorker(db, handlers: try registry(command)) {
            try await db.awaitStatus(id, .completed)
        }
        return (db, id)
    }

    /// Runs the program again with the document and environment the worker gave phase 1's EXECUTE
    /// step (as a retry after a crash would, with the next attempt number); returns what it printed
    /// and the result the worker committed, both parsed.
    func replayExecute(_ db: TestDatabase, _ id: String, _ command: [String]) async throws -> (output: JSONValue, committed: JSONValue) {
        let row = try #require(try await db.query("""
            SELECT a.input::text AS document, k.result::text AS result, k.id AS task_id, a.attempt
            FROM baton.attempts a JOIN baton.tasks k ON k.id = a.task_id
            WHERE a.session_id = $1 AND k.phase = 1 AND k.step = 'EXECUTE' AND a.outcome = 'SUCCEEDED'
            """, [id]).first)
        let stdin = NSTemporaryDirectory() + "baton-replay-\(UUID().uuidString).json"
        try row.string("document").write(toFile: stdin, atomically: true, encoding: .utf8)
        let process = try BatonProcess(program: command[0], Array(command.dropFirst()), environment: [
            "BATON_TASK_ID": try row.string("task_id"), "BATON_SESSION_ID": id, "BATON_STEP": "EXECUTE",
            "BATON_PHASE": "1", "BATON_ATTEMPT": String(try row.int("attempt") + 1),
            "BATON_IDEMPOTENCY_KEY": "\(id)/1/EXECUTE",
        ], stdinPath: stdin)
        let status = await process.waitForExit()
        #expect(status == 0, "\(process.output)")
        return (try parse(process.output), try parse(try row.string("result")))
    }

    func parse(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    func scratchFolder() throws -> String {
        let path = NSTemporaryDirectory() + "baton-example-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func markdownFiles(_ folder: String) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".md") }.map { folder + "/" + $0 })
    }

    /// The file's inode number.
    func fileNumber(_ path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw TestFailure("cannot stat \(path)") }
        return UInt64(info.st_ino)
    }

    func visibleFiles(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
    }

    func lines(_ path: String) throws -> [Substring] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    }
}
