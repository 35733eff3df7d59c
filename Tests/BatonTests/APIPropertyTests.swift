import Baton
@testable import BatonAPI
import Foundation
import Testing

/// The served API document tells the truth: Schemathesis (property-based, on Hypothesis)
/// reads `GET /openapi.json` from a real `baton api` on a real PostgreSQL, generates requests
/// from it, valid and invalid, and checks every answer: no 5xx for any request, every status,
/// content type, header and body as the document says, and no request that the document
/// calls valid refused with 400 or 422 (`positive_data_acceptance`). The seed is fixed and the
/// example count bounded, so a run is reproducible and takes a minute or two on this machine.
/// The formats the document names beyond JSON Schema (period, cron, time-zone) are generated
/// by `Fixtures/schemathesis/formats.py`.
@Suite("API properties (Schemathesis)", .serialized)
struct APIPropertyTests {
    /// What every answer must satisfy.
    static let checks = [
        "not_a_server_error", "status_code_conformance", "content_type_conformance",
        "response_headers_conformance", "response_schema_conformance", "positive_data_acceptance",
    ]

    /// Runs `st run` against the API at `base`; returns its exit status and report.
    func schemathesis(_ base: String, checks: [String], examples: Int, extra: [String] = []) async throws -> (status: Int32, report: String) {
        let python = try TestEnvironment.python
        let st = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("st").path
        guard FileManager.default.isExecutableFile(atPath: st) else {
            throw TestFailure("\(st) is missing: schemathesis is in examples/requirements.txt; run the tests with scripts/test, which installs it")
        }
        let hooks = TestEnvironment.repository + "/Tests/BatonTests/Fixtures/schemathesis/formats.py"
        let arguments = [
            "run", base + "/openapi.json", "--checks", checks.joined(separator: ","),
            "--max-examples", String(examples), "--seed", "20261203", "--workers", "1",
            // No example database in the working tree: every run starts from the seed alone.
            "--generation-database", "none", "--request-timeout", "60", "--no-color",
            "--output-truncate", "true",
        ] + extra
        let process = try BatonProcess(program: st, arguments, environment: ["SCHEMATHESIS_HOOKS": hooks, "COLUMNS": "120"])
        let status = await process.waitForExit()
        return (status, process.output)
    }

    @Test("open server: every generated request, valid or not, gets an answer the served document allows")
    func openServer() async throws {
        let db = try await TestDatabase.create()
        let (process, http) = try await APIProcessTests().start(["api"], db)
        defer { process.kill(SIGKILL) }

        let document = try await http.get("/openapi.json")
        #expect(!document.body.contains(#"{"bearer": []}"#), "an open server's document requires no token")

        let run = try await schemathesis(http.base, checks: Self.checks, examples: 40)
        #expect(run.status == 0, "Schemathesis found requests the served document gets wrong:\n\(run.report.suffix(30_000))")
        #expect(!process.output.contains("request failed unexpectedly"), "the server logged a 500:\n\(process.output.suffix(4000))")
    }

    @Test("server with BATON_API_TOKEN: the same with the token, and every /api operation refuses a missing one with 401")
    func tokenServer() async throws {
        let db = try await TestDatabase.create()
        let token = "property-token-" + UUID().uuidString
        let (process, http) = try await APIProcessTests().start(["api"], db, environment: ["BATON_API_TOKEN": token])
        defer { process.kill(SIGKILL) }

        let document = try await http.get("/openapi.json")
        #expect(document.body.contains(#""security": [{"bearer": []}]"#), "a server with a token documents that it needs one")

        // missing_required_header: the coverage phase drops the Authorization header and expects 401.
        let run = try await schemathesis(http.base, checks: Self.checks + ["missing_required_header", "ignored_auth"], examples: 15,
                                         extra: ["--header", "Authorization: Bearer \(token)"])
        #expect(run.status == 0, "Schemathesis found requests the served document gets wrong:\n\(run.report.suffix(30_000))")
        #expect(!process.output.contains("request failed unexpectedly"), "the server logged a 500:\n\(process.output.suffix(4000))")
    }

    /// What the tool cannot see: the cursor's round trip, the conflict code, the numbers that
    /// could be stored but not read back, and whole numbers written with a fraction or exponent.
    @Test("hand-written: a duplicate id is 409 conflict; cursors of the documented form page correctly; unreadable numbers are refused")
    func handWritten() async throws {
        let db = try await TestDatabase.create()
        try await withAPI(db) { http, _ in
            let first = try await http.post("/api/sessions", #"{"phases": 1, "id": "dup", "kind": "nobody"}"#)
            #expect(first.status == 201, "\(first.body)")
            let again = try await http.post("/api/sessions", #"{"phases": 1, "id": "dup"}"#)
            #expect(again.status == 409 && again.errorCode == "conflict" && again.errorMessage.contains("dup already exists"), "\(again.body)")
            try expectMatchesSchema(again, "POST", "/api/sessions")

            // Whole numbers as JSON Schema counts them.
            for phases in ["2.0", "2e0", "0.2e1", "20e-1"] {
                let created = try await http.post("/api/sessions", #"{"phases": \#(phases), "kind": "nobody"}"#)
                #expect(created.status == 201 && created.object["totalPhases"] as? Int == 2, "\(phases): \(created.body)")
            }
            for phases in ["2.5", "1e-1", "1e400"] {
                let refused = try await http.post("/api/sessions", #"{"phases": \#(phases)}"#)
                #expect(refused.status == 400 && refused.errorCode == "bad_parameter", "\(phases): \(refused.body)")
            }

            // A number jsonb stores but Baton could not read back would break every later read.
            for number in ["1e400", "-1.8e308", "1e-400"] {
                let refused = try await http.post("/api/sessions", #"{"phases": 1, "input": {"n": [\#(number)]}}"#)
                #expect(refused.status == 400 && refused.errorMessage.contains("64-bit float"), "\(number): \(refused.body)")
            }
            let list = try await http.get("/api/sessions")
            #expect(list.status == 200, "\(list.body)")

            // Pages of one: each cursor has the documented form, and paging sees every session once.
            let total = try #require(Int(try await db.scalar("SELECT count(*) FROM baton.sessions") ?? ""))
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await http.get("/api/sessions?limit=1" + (cursor.map { "&cursor=" + $0 } ?? ""))
                #expect(page.status == 200, "\(page.body)")
                seen += (page.object["sessions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.object["nextCursor"] as? String
                if let cursor {
                    #expect(cursor.range(of: SessionCursor.pattern, options: .regularExpression) != nil, "\(cursor)")
                }
            } while cursor != nil && seen.count <= total
            #expect(seen.count == total && Set(seen).count == total, "\(seen)")

            // A cursor of the documented form that this server never issued still names a position.
            let foreign = try await http.get("/api/sessions?cursor=1-ff")
            #expect(foreign.status == 200 && (foreign.object["sessions"] as? [Any])?.isEmpty == true, "\(foreign.body)")
            let future = try await http.get("/api/sessions?cursor=9999999999999999-7a")
            #expect(future.status == 200 && (future.object["sessions"] as? [Any])?.count == total, "\(future.body)")
            let garbage = try await http.get("/api/sessions?cursor=garbage")
            #expect(garbage.status == 400 && garbage.errorMessage.contains("the cursor is not one this server issued"), "\(garbage.body)")
        }
        // The CLI: a duplicate id is still exit 4 (the SQL error is BT409), with the message.
        let cli = try await runBaton(["session", "create", "--phases", "1", "--id", "dup"], environment: db.environment)
        #expect(cli.status == 4 && cli.output.contains("dup already exists"), "\(cli.status): \(cli.output)")
    }
}

/// `SessionCursor` without a server.
@Suite("Session cursor")
struct SessionCursorTests {
    @Test("a cursor's text reads back as the same position, at any time and for any id, and matches the documented pattern")
    func roundTrip() throws {
        for micros in [Int64(0), 951_868_799_999_999, 1_796_279_786_888_066, 9_999_999_999_999_999] {
            for id in ["a", "dup", "ключ|x", "🙂 space/slash", String(repeating: "z", count: 200)] {
                let cursor = SessionCursor(microseconds: micros, id: id)
                #expect(SessionCursor(text: cursor.text) == cursor)
                #expect(cursor.text.range(of: SessionCursor.pattern, options: .regularExpression) != nil, "\(cursor.text)")
            }
        }
        for text in ["", "1", "1-", "-61", "1-6", "1-00", "1-6100", "1-AB", "12345678901234567-61", "x-61", "1-6g"] {
            #expect(SessionCursor(text: text) == nil, "\(text)")
        }
        #expect(SessionCursor(text: "5-ff")?.id == "\u{FFFD}", "bytes that are not UTF-8 still name a position")
    }
}
