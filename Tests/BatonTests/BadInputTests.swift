import AsyncHTTPClient
import Baton
@testable import BatonAPI
import Foundation
import NIOCore
import Testing

/// Bad input, tried for real: the SQL functions, the CLI and the HTTP API get malformed JSON,
/// wrong types, huge values, unknown and hostile ids, NUL bytes, and every action in every state
/// where it is not allowed. Each gets its own clear error, and a fingerprint of the whole
/// database (every row of sessions, tasks and attempts, and the schema's tables and functions)
/// is the same afterwards. Each test ends with one valid call, to show the fingerprint notices a
/// change.
@Suite struct BadInputTests {
    // MARK: SQL

    @Test("SQL functions: malformed JSON, wrong types, huge values, unknown and hostile ids, NUL bytes, forged writes")
    func sqlFunctions() async throws {
        let db = try await TestDatabase.create()
        let fixture = try await Fixture.make(db)
        let before = try await Fixture.fingerprint(db)
        let running = fixture.runningTask
        let huge = String(repeating: "x", count: 1_000_000)

        // (statement, parameters, SQLSTATE, message fragment)
        var cases: [(String, [String?], String, String)] = [
            // Malformed JSON, and JSON that jsonb cannot hold.
            ("SELECT baton.create_session(1, $1::jsonb)", [#"{"a": }"#], "22P02", "invalid input syntax for type json"),
            ("SELECT baton.create_session(1, $1::jsonb)", [#"{"a": "\u0000"}"#], "22P05", "unsupported Unicode escape sequence"),
            ("SELECT baton.create_session(1, $1::jsonb)", [#""\ud800""#], "22P02", "invalid input syntax for type json"),
            ("SELECT baton.create_sessions(1, $1::jsonb[])", [#"{"{\"a\": }"}"#], "22P02", "invalid input syntax for type json"),
            ("SELECT baton.complete_task($1::bigint, $2::jsonb)", [running, #"{"result": "#], "22P02", "invalid input syntax for type json"),
            ("SELECT baton.complete_task($1::bigint, $2::jsonb)", [running, "[1, 2"], "22P02", "invalid input syntax for type json"),
            // Wrong types, and numbers as text that are not numbers of the type.
            ("SELECT baton.create_session($1::int, '{}')", ["two"], "22P02", #"invalid input syntax for type integer: "two""#),
            ("SELECT baton.create_session($1::int, '{}')", ["1.5"], "22P02", "invalid input syntax for type integer"),
            ("SELECT baton.create_session($1::int, '{}')", ["99999999999"], "22003", "out of range for type integer"),
            ("SELECT baton.create_session(1, '{}', NULL, 'default', $1::boolean)", ["maybe"], "22P02", "invalid input syntax for type boolean"),
            ("SELECT baton.complete_task($1::bigint, '{}')", ["abc"], "22P02", "invalid input syntax for type bigint"),
            ("SELECT baton.fail_task($1::bigint, 'x')", ["1e3"], "22P02", "invalid input syntax for type bigint"),
            ("SELECT baton.complete_task($1::bigint, '{}')", ["9223372036854775808"], "22003", "out of range for type bigint"),
            ("SELECT baton.proceed(42)", [], "42883", "function baton.proceed(integer) does not exist"),
            ("SELECT baton.complete_task('{}'::jsonb, 1)", [], "42883", "function baton.complete_task(jsonb, integer) does not exist"),
            // Values out of range.
            ("SELECT baton.create_session(0, '{}')", [], "BT400", "phases must be between 1 and 1000 (got 0)"),
            ("SELECT baton.create_session(-1, '{}')", [], "BT400", "phases must be between 1 and 1000 (got -1)"),
            ("SELECT baton.create_session(1001, '{}')", [], "BT400", "phases must be between 1 and 1000 (got 1001)"),
            ("SELECT baton.create_session(NULL, '{}')", [], "BT400", "phases must be between 1 and 1000 (got NULL)"),
            ("SELECT baton.create_sessions(0, ARRAY['{}'::jsonb])", [], "BT400", "phases must be between 1 and 1000 (got 0)"),
            ("SELECT baton.create_session(1, '{}', $1)", [""], "BT400", "session id must be 1 to 200 characters (got 0)"),
            ("SELECT baton.create_session(1, '{}', $1)", [String(repeating: "y", count: 201)], "BT400", "(got 201)"),
            ("SELECT baton.create_session(1, '{}', $1)", [huge], "BT400", "session id must be 1 to 200 characters (got 1000000)"),
            ("SELECT baton.create_session(1, '{}', NULL, NULL)", [], "BT400", "kind must be 1 to 100 letters, digits or _.:- (got NULL)"),
            ("SELECT baton.create_sessions(1, ARRAY['{}'::jsonb], $1)", ["no spaces"], "BT400", "(got 'no spaces')"),
            // An id that exists (quotes, backslash, emoji, RTL, a combining accent) cannot be taken again.
            ("SELECT baton.create_session(1, '{}', $1)", [Fixture.weirdID], "BT409", "session \(Fixture.weirdID) already exists"),
            // NUL: PostgreSQL text cannot hold it, and the client must not cut a value short at it
            // (which would turn "bi-awaiting-phase\0x" into the id of a real session).
            ("SELECT baton.proceed($1)", ["bi-awaiting-phase\0x"], "22021", "NUL character"),
            ("SELECT baton.cancel($1)", ["bi-pending\0"], "22021", "NUL character"),
            ("SELECT baton.create_session(1, '{}', $1)", ["new\0id"], "22021", "NUL character"),
            ("SELECT baton.fail_task($1::bigint, $2)", [running, "boom\0tail"], "22021", "NUL character"),
            ("SELECT baton.proceed('bi-awaiting-phase' || chr(0))", [], "54000", "null character not permitted"),
            ("SELECT baton.proceed(E'bi-awaiting-phase\\000')", [], "22021", "invalid byte sequence"),
            // Writes that go around the functions meet the state machine's triggers.
            ("UPDATE baton.sessions SET status = 'COMPLETED', step = NULL WHERE id = 'bi-pending'", [], "BT422",
             "invalid status change for session bi-pending: PENDING -> COMPLETED"),
            ("UPDATE baton.sessions SET status = 'THINKING' WHERE id = 'bi-cancelled'", [], "BT422", "CANCELLED -> THINKING"),
            ("UPDATE baton.sessions SET total_phases = 5 WHERE id = 'bi-awaiting-phase'", [], "BT422", "id and total_phases cannot change"),
            ("INSERT INTO baton.sessions (id, total_phases, status, step) VALUES ('forged', 1, 'COMPLETED', NULL)", [], "BT422",
             "a session starts PENDING at phase 1, step THINK"),
        ]
        for kind in ["", "bad kind!", "ключ", String(repeating: "k", count: 101), "a'b"] {
            cases.append(("SELECT baton.create_session(1, '{}', NULL, $1)", [kind], "BT400",
                          "kind must be 1 to 100 letters, digits or _.:- (got \(sqlLiteral(kind)))"))
        }
        // Unknown ids, hostile ones among them, for every action on a session.
        for id in hostileIDs + [huge] {
            for action in ["proceed", "retry", "cancel"] {
                cases.append(("SELECT baton.\(action)($1)", [id], "BT404", "unknown session \(sqlLiteral(id))"))
            }
        }
        // Unknown task ids: zero, negative, the extremes of bigint.
        for task in ["0", "-1", "-9223372036854775808", "9223372036854775807", "987654321"] {
            cases.append(("SELECT baton.complete_task($1::bigint, '{}')", [task], "BT404", "unknown task \(task)"))
            cases.append(("SELECT baton.fail_task($1::bigint, 'x')", [task], "BT404", "unknown task \(task)"))
        }

        for (sql, parameters, state, fragment) in cases {
            let shown = "\(sql) \(parameters.map { String(($0 ?? "NULL").prefix(60)).debugDescription })"
            do {
                try await db.query(sql, parameters)
                Issue.record("\(shown) succeeded; expected SQLSTATE \(state)")
            } catch let error as DatabaseError {
                #expect(error.sqlState == state, "\(shown): \(String(error.description.prefix(300)))")
                guard case .server(_, let message, _, _) = error else { continue }
                #expect(has(message, fragment), "\(shown): '\(message.prefix(300))' lacks '\(fragment.prefix(100))'")
                #expect(!error.description.contains(db.url) && !error.description.contains("postgresql://"))
            }
        }

        #expect(try await Fixture.fingerprint(db) == before, "no bad call changed the database")
        try await db.query("SELECT baton.proceed('bi-awaiting-phase')")
        #expect(try await Fixture.fingerprint(db) != before, "the fingerprint notices a real change")
    }

    // MARK: CLI

    @Test("CLI: bad JSON, wrong types, huge values, unknown and hostile ids, bad usage: exit code and message, nothing changed")
    func cli() async throws {
        let db = try await TestDatabase.create()
        _ = try await Fixture.make(db)
        // Run as a role with a password, to see that no output ever shows it.
        let password = "correct-horse-battery"
        try await db.query("GRANT USAGE ON SCHEMA baton TO baton_secret")
        try await db.query("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA baton TO baton_secret")
        try await db.query("GRANT USAGE ON ALL SEQUENCES IN SCHEMA baton TO baton_secret")
        let url = "postgresql://baton_secret:\(password)@127.0.0.1:\(TestEnvironment.port)/\(db.name)"
        let env = ["DATABASE_URL": url]
        let before = try await Fixture.fingerprint(db)

        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        let hugeStdin = #"{"a": ""# + String(repeating: "x", count: 2_000_000)  // never closed
        func cursor(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

        // (arguments, stdin, exit status, message fragment)
        var cases: [([String], String?, Int32, String)] = [
            // Malformed JSON, in the argument and on stdin.
            (["session", "create", "--input", #"{"a": "#], nil, 5, "the session input is not valid JSON: unexpected end of JSON at byte 6"),
            (["session", "create", "--input", "{'a': 1}"], nil, 5, "expected a string key at byte 1"),
            (["session", "create", "--input", "[1, 2"], nil, 5, "unexpected end of JSON at byte 5"),
            (["session", "create", "--input", "{} {}"], nil, 5, "unexpected text after the JSON value at byte 3"),
            (["session", "create", "--input", ""], nil, 5, "the session input is not valid JSON: empty text, expected a JSON value at byte 0"),
            (["session", "create", "--input", #"{"a": "\u0000"}"#], nil, 5, #"\u0000 cannot be stored in jsonb"#),
            (["session", "create", "--input", #"{"a": "\ud800"}"#], nil, 5, #"unpaired UTF-16 surrogate in a \u escape at byte"#),
            (["session", "create", "--input", deep], nil, 5, "nesting deeper than 512"),
            (["session", "create", "--input", "-"], #"{"a": "x\#u{0}y"}"#, 5, "control character in string at byte 8"),
            (["session", "create", "--input", "-"], hugeStdin, 5, "unterminated string at byte 2000007"),
            (["session", "create", "--input", "-"], "", 5, "empty text, expected a JSON value"),
            // Wrong types and values out of range.
            (["session", "create", "--phases", "two"], nil, 2, "The value 'two' is invalid for '--phases <phases>'"),
            (["session", "create", "--phases", "1.5"], nil, 2, "The value '1.5' is invalid for '--phases <phases>'"),
            (["session", "create", "--phases", "99999999999999999999"], nil, 2, "is invalid for '--phases <phases>'"),
            (["session", "create", "--phases=-3"], nil, 5, "phases must be between 1 and 1000 (got -3)"),
            (["session", "create", "--phases", "1001"], nil, 5, "phases must be between 1 and 1000 (got 1001)"),
            (["session", "create", "--auto-steps", "maybe"], nil, 2, "The value 'maybe' is invalid for '--auto-steps <auto-steps>'"),
            (["session", "create", "--id", ""], nil, 5, "session id must be 1 to 200 characters (got 0)"),
            (["session", "create", "--id", String(repeating: "z", count: 100_000)], nil, 5, "session id must be 1 to 200 characters (got 100000)"),
            (["session", "create", "--kind", "bad kind!"], nil, 5, "kind must be 1 to 100 letters, digits or _.:- (got 'bad kind!')"),
            (["session", "create", "--kind", "ключ"], nil, 5, "kind must be 1 to 100 letters"),
            (["session", "create", "--id", Fixture.weirdID], nil, 4, "session \(Fixture.weirdID) already exists"),
            (["session", "list", "--limit", "0"], nil, 5, "limit must be a whole number from 1 to 1000 (got 0)"),
            (["session", "list", "--limit", "100000"], nil, 5, "limit must be a whole number from 1 to 1000 (got 100000)"),
            (["session", "list", "--limit", "abc"], nil, 2, "The value 'abc' is invalid for '--limit <limit>'"),
            (["session", "list", "--status", "completed'; DROP TABLE baton.sessions;--"], nil, 5, "unknown status 'completed'; DROP"),
            (["session", "list", "--after", "garbage!"], nil, 5, "the cursor is not one this server issued"),
            (["session", "list", "--after", cursor("junk|x")], nil, 5, "the cursor is not one this server issued"),
            (["session", "list", "--after", cursor("2024-13-45T00:00:00.000000Z|x")], nil, 5, "the cursor is not one this server issued"),
            // Bad usage.
            (["advance"], nil, 2, "Missing expected argument '<id>'"),
            (["advance", "bi-awaiting-phase", "bi-awaiting-step"], nil, 2, "Unexpected argument 'bi-awaiting-step'"),
            (["cancel", "--force", "bi-pending"], nil, 2, "Unknown option '--force'"),
            (["frobnicate", "bi-pending"], nil, 2, "unexpected arguments: 'frobnicate', 'bi-pending'"),
        ]
        // Unknown ids, hostile ones among them, for every command that takes one.
        for id in hostileIDs + [String(repeating: "q", count: 100_000)] {
            for command in [["advance"], ["retry"], ["cancel"]] {
                cases.append((command + [id], nil, 3, "unknown session \(sqlLiteral(id)). List sessions with `baton session list`."))
            }
            for command in [["progress"], ["session", "show"]] {
                cases.append((command + [id], nil, 3, "unknown session '\(id)'. List sessions with `baton session list`."))
            }
        }

        let results = try await runConcurrently(cases.map { ($0.0, $0.1) }, environment: env)
        for ((arguments, _, status, fragment), result) in zip(cases, results) {
            let shown = arguments.map { String($0.prefix(60)).debugDescription }.joined(separator: " ")
            #expect(result.status == status, "baton \(shown): exit \(result.status): \(result.output.prefix(400))")
            #expect(has(result.output, fragment), "baton \(shown): '\(result.output.prefix(400))' lacks '\(fragment.prefix(100))'")
            #expect(!result.output.contains(password) && !result.output.contains("postgresql://"), "baton \(shown) shows the URL")
        }

        // Bytes that are not UTF-8 on stdin: refused, not quietly turned into U+FFFD.
        let stdinPath = NSTemporaryDirectory() + "baton-stdin-\(UUID().uuidString)"
        try Data(Array(#"{"a": "caf"#.utf8) + [0xE9] + Array(#""}"#.utf8)).write(to: URL(fileURLWithPath: stdinPath))
        let notUTF8 = try BatonProcess(["session", "create", "--input", "-"], environment: env, stdinPath: stdinPath)
        #expect(await notUTF8.waitForExit() == 5)
        #expect(notUTF8.output.contains("the session input on stdin is not valid UTF-8"), "\(notUTF8.output)")

        #expect(try await Fixture.fingerprint(db) == before, "no bad command changed the database")
        let valid = try await runBaton(["advance", "bi-awaiting-phase"], environment: env)
        #expect(valid.status == 0, "\(valid.output)")
        #expect(try await Fixture.fingerprint(db) != before, "the fingerprint notices a real change")
    }

    // MARK: HTTP API

    @Test("HTTP API: malformed JSON, wrong types, huge bodies, hostile ids and task ids, NUL bytes: status, code, message; nothing changed")
    func api() async throws {
        let db = try await TestDatabase.create()
        let fixture = try await Fixture.make(db)
        let before = try await Fixture.fingerprint(db)
        let limit = 16_384
        try await withAPI(db, configuration: APIConfiguration(port: 0, maxBodyBytes: limit)) { http, _ in
            let running = fixture.runningTask
            // (method, path, body, status, code, message fragment)
            var cases: [(String, String, [UInt8]?, Int, String, String)] = []
            func add(_ method: String, _ path: String, _ body: String?, _ status: Int, _ code: String, _ fragment: String) {
                cases.append((method, path, body.map { Array($0.utf8) }, status, code, fragment))
            }

            // Every route that takes a body, aimed at sessions and a task where a mistake would show.
            let bodyRoutes = [
                "/api/sessions", "/api/sessions/bi-awaiting-phase/proceed-next-phase", "/api/sessions/bi-failed/retry",
                "/api/sessions/bi-pending/cancel", "/api/tasks/\(running)/complete", "/api/tasks/\(running)/fail",
                "/api/schedules", "/api/schedules/bi-schedule/run-now",
            ]
            for route in bodyRoutes {
                add("POST", route, #"{"a": "#, 400, "bad_json", "unexpected end of JSON at line 1, column 7")
                add("POST", route, "{\n  \"a\" 1}", 400, "bad_json", "expected ':' at line 2, column 7")
                add("POST", route, "{'a': 1}", 400, "bad_json", "expected a string key at line 1, column 2")
                add("POST", route, "{} {}", 400, "bad_json", "unexpected text after the JSON value at line 1, column 4")
                add("POST", route, #"{"x": "\ud800"}"#, 400, "bad_json", #"unpaired UTF-16 surrogate in a \u escape"#)
                add("POST", route, #"{"x": "\u0000"}"#, 400, "bad_json", #"\u0000 cannot be stored in jsonb"#)
                for notObject in ["[]", #""proceed""#, "null", "42", "true"] {
                    add("POST", route, notObject, 400, "bad_json", "the request body must be a JSON object")
                }
                add("POST", route, #"{"force": true}"#, 400, "unknown_field", "unknown field 'force'")
                cases.append(("POST", route, Array(#"{"x": "a"#.utf8) + [0] + Array(#"b"}"#.utf8), 400, "bad_json", "control character in string"))
                cases.append(("POST", route, Array(#"{"x": "caf"#.utf8) + [0xE9] + Array(#""}"#.utf8), 400, "bad_json", "not valid UTF-8"))
                add("POST", route, "{\"x\": \"" + String(repeating: "x", count: limit) + "\"}", 413, "body_too_large",
                    "the request body is larger than \(limit) bytes")
            }

            // Wrong types for the fields of a new session.
            // (`1e0` and `1.0` are whole numbers, as JSON Schema counts them: APIPropertyTests accepts them.)
            for phases in [#""1""#, "1.5", "1e-1", "-1", "0", "1001", "null", "true", "[1]", #"{"n": 1}"#, "99999999999999999999"] {
                add("POST", "/api/sessions", #"{"phases": \#(phases)}"#, 400, "bad_parameter", "field 'phases' must be a whole number from 1 to 1000")
            }
            for id in ["7", "[]", "null", "{}", "true"] {
                add("POST", "/api/sessions", #"{"phases": 1, "id": \#(id)}"#, 400, "bad_parameter", "field 'id' must be a string (got \(id))")
            }
            add("POST", "/api/sessions", #"{"phases": 1, "id": ""}"#, 400, "bad_parameter", "field 'id' must have 1 to 200 characters")
            add("POST", "/api/sessions", #"{"phases": 1, "id": "\#(String(repeating: "i", count: 201))"}"#, 400, "bad_parameter",
                "field 'id' must have 1 to 200 characters")
            add("POST", "/api/sessions", #"{"phases": 1, "id": "bi-pending\ud800"}"#, 400, "bad_json", "unpaired UTF-16 surrogate")
            add("POST", "/api/sessions", #"{"phases": 1, "id": "bi-pending\udc00"}"#, 400, "bad_json", "unpaired UTF-16 surrogate")
            add("POST", "/api/sessions", #"{"phases": 1, "input": "\ud83d\u0041"}"#, 400, "bad_json", "unpaired UTF-16 surrogate")
            add("POST", "/api/sessions", #"{"phases": 1, "kind": 5}"#, 400, "bad_parameter", "field 'kind' must be a string (got 5)")
            add("POST", "/api/sessions", #"{"phases": 1, "kind": "bad kind!"}"#, 400, "bad_parameter", "kind must be 1 to 100 letters, digits or _.:- (got 'bad kind!')")
            add("POST", "/api/sessions", #"{"phases": 1, "kind": "ключ"}"#, 400, "bad_parameter", "kind must be 1 to 100 letters")
            for flag in [#""true""#, "1", "null", "[]"] {
                add("POST", "/api/sessions", #"{"phases": 1, "autoSteps": \#(flag)}"#, 400, "bad_parameter", "field 'autoSteps' must be true or false")
                add("POST", "/api/sessions", #"{"phases": 1, "autoPhases": \#(flag)}"#, 400, "bad_parameter", "field 'autoPhases' must be true or false")
            }
            add("POST", "/api/sessions", #"{"phases": 1, "id": \#(JSONText.quote(Fixture.weirdID))}"#, 409, "conflict",
                "session \(Fixture.weirdID) already exists")

            // Finishing a step: wrong types, missing fields, bad task ids.
            for value in ["5", "null", #"["a"]"#, "{}"] {
                add("POST", "/api/tasks/\(running)/fail", #"{"error": \#(value)}"#, 400, "bad_parameter", "field 'error' must be a string (got \(value))")
            }
            add("POST", "/api/tasks/\(running)/fail", #"{"error": ""}"#, 400, "bad_parameter", "field 'error' must have 1 to 10000 characters")
            add("POST", "/api/tasks/\(running)/fail", #"{"error": "\#(String(repeating: "e", count: 10_001))"}"#, 400, "bad_parameter",
                "field 'error' must have 1 to 10000 characters")
            add("POST", "/api/tasks/\(running)/fail", "{}", 400, "bad_parameter", "field 'error' is required")
            add("POST", "/api/tasks/\(running)/fail", nil, 400, "bad_parameter", "field 'error' is required")
            add("POST", "/api/tasks/\(running)/complete", nil, 400, "bad_parameter", "field 'result' is required")
            add("POST", "/api/tasks/\(running)/complete", #"{"result": }"#, 400, "bad_json", "unexpected character, expected a JSON value at line 1, column 12")
            for task in ["0", "-1", "1.5", "1e3", "abc", "9223372036854775808", "%27%3B", "%D9%A1", "%201", "0x10"] {
                add("POST", "/api/tasks/\(task)/complete", #"{"result": 1}"#, 400, "bad_parameter", "a task id is a positive whole number")
                add("POST", "/api/tasks/\(task)/fail", #"{"error": "x"}"#, 400, "bad_parameter", "a task id is a positive whole number")
            }
            for task in ["9223372036854775807", "987654321"] {
                add("POST", "/api/tasks/\(task)/complete", #"{"result": 1}"#, 404, "not_found", "unknown task \(task)")
                add("POST", "/api/tasks/\(task)/fail", #"{"error": "x"}"#, 404, "not_found", "unknown task \(task)")
            }

            // Unknown ids, hostile ones among them, on every route that names a session.
            for id in hostileIDs.filter({ !$0.isEmpty }) + [String(repeating: "u", count: 8_000)] {
                let path = "/api/sessions/" + pathEncoded(id)
                for action in ["proceed-next-phase", "retry", "cancel"] {
                    add("POST", path + "/" + action, nil, 404, "not_found", "unknown session \(sqlLiteral(id))")
                }
                add("GET", path, nil, 404, "not_found", "unknown session '\(id)'")
                add("GET", path + "/progress", nil, 404, "not_found", "unknown session '\(id)'")
            }
            // Schedules: wrong types and values, hostile names on every route that names one.
            for (body, fragment) in [
                (#"{"name": 7, "every": "1 hour", "kind": "k"}"#, "field 'name' must be a string"),
                (#"{"name": "x", "every": 5, "kind": "k"}"#, "field 'every' must be a string"),
                (#"{"name": "x", "every": "1 hour", "kind": "k", "phases": 0}"#, "field 'phases' must be a whole number"),
                (#"{"name": "x", "every": "1e400 hours", "kind": "k"}"#, "interval"),
                (#"{"name": "x", "every": "-5 minutes", "kind": "k"}"#, "at least 1 second"),
                (#"{"name": "x", "cron": "*/0 * * * *", "kind": "k"}"#, "the minute field '*/0'"),
                (#"{"name": "x", "cron": "* * * * *", "timeZone": "'; DROP TABLE baton.schedules;--", "kind": "k"}"#, "unknown time zone"),
                (#"{"name": "x", "cron": "* * * * *", "kind": "k", "input": {"a": "\u0000"}}"#, "cannot be stored in jsonb"),
                (#"{"name": "\#(String(repeating: "n", count: 101))", "every": "1 hour", "kind": "k"}"#, "field 'name' must have 1 to 100 characters"),
            ] {
                add("POST", "/api/schedules", body, 400, body.contains("u0000") ? "bad_json" : "bad_parameter", fragment)
            }
            for name in hostileIDs.filter({ !$0.isEmpty }) + [String(repeating: "s", count: 8_000)] {
                let path = "/api/schedules/" + pathEncoded(name)
                add("GET", path, nil, 404, "not_found", "unknown schedule")
                add("DELETE", path, nil, 404, "not_found", "unknown schedule")
                add("POST", path + "/run-now", nil, 404, "not_found", "unknown schedule")
            }
            add("GET", "/api/schedules/bi-schedule%00x", nil, 400, "bad_parameter", "NUL character")
            add("DELETE", "/api/schedules/bi-schedule%00", nil, 400, "bad_parameter", "NUL character")
            add("POST", "/api/schedules/bi-schedule%00/run-now", nil, 400, "bad_parameter", "NUL character")

            // NUL cannot be in an id; cut short at it, these would name real sessions.
            add("POST", "/api/sessions/bi-awaiting-phase%00x/proceed-next-phase", nil, 400, "bad_parameter", "NUL character")
            add("POST", "/api/sessions/bi-pending%00/cancel", nil, 400, "bad_parameter", "NUL character")
            add("POST", "/api/sessions/bi-failed%00/retry", nil, 400, "bad_parameter", "NUL character")
            add("GET", "/api/sessions/bi-completed%00x", nil, 400, "bad_parameter", "NUL character")
            add("GET", "/api/sessions/bi-completed%00x/progress", nil, 400, "bad_parameter", "NUL character")

            // Query parameters.
            func cursor(_ text: String) -> String {
                Data(text.utf8).base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            }
            add("GET", "/api/sessions?kind=default%00", nil, 400, "bad_parameter", "NUL character")
            add("GET", "/api/sessions?cursor=" + cursor("junk|x"), nil, 400, "bad_parameter", "the cursor is not one this server issued")
            add("GET", "/api/sessions?cursor=" + cursor("2024-13-45T00:00:00.000000Z|x"), nil, 400, "bad_parameter", "the cursor is not one this server issued")
            // The API's cursors are `<microseconds>-<id in hex>` (SessionCursor); a NUL byte (00) has no place in one.
            add("GET", "/api/sessions?cursor=1-6100", nil, 400, "bad_parameter", "the cursor is not one this server issued")
            for value in ["-1", "0", "1001", "abc", "1e3", "%201"] {
                add("GET", "/api/sessions?limit=\(value)", nil, 400, "bad_parameter", "limit must be a whole number from 1 to 1000")
            }
            for value in ["-1", "inf", "nan", "301", "soon"] {
                add("GET", "/api/sessions/bi-pending/progress?wait=\(value)", nil, 400, "bad_parameter", "wait must be a number of seconds from 0 to 300")
            }
            for value in ["abc", "1.5", "99999999999999999999"] {
                add("GET", "/api/sessions/bi-pending/progress?since=\(value)", nil, 400, "bad_parameter", "since must be a progress version")
            }

            for (method, path, body, status, code, fragment) in cases {
                let shown = "\(method) \(path.prefix(120))"
                let reply = try await http.send(method, path, bytes: body)
                #expect(reply.status == status, "\(shown): \(reply.status) \(reply.body.prefix(300))")
                #expect(reply.errorCode == code, "\(shown): \(reply.body.prefix(300))")
                #expect(has(reply.errorMessage, fragment), "\(shown): '\(reply.errorMessage.prefix(300))' lacks '\(fragment.prefix(100))'")
                #expect(!reply.body.contains(db.url) && !reply.body.contains("postgresql://"), "\(shown)")
            }

            // A body over the limit without a Content-Length (chunked) is refused while it is read.
            for route in ["/api/sessions", "/api/sessions/bi-awaiting-phase/proceed-next-phase", "/api/tasks/\(running)/complete"] {
                let chunk = String(repeating: " ", count: 4096)
                let reply = try await sendChunked(http, route, [#"{"result": 1, "phases": 1"#] + Array(repeating: chunk, count: 5) + ["}"])
                #expect(reply.status == 413 && reply.errorCode == "body_too_large", "chunked \(route): \(reply.status) \(reply.body.prefix(300))")
            }

            #expect(try await Fixture.fingerprint(db) == before, "no bad request changed the database")
            let valid = try await http.post("/api/sessions/bi-awaiting-phase/proceed-next-phase")
            #expect(valid.status == 200, "\(valid.body)")
            #expect(try await Fixture.fingerprint(db) != before, "the fingerprint notices a real change")
        }
    }

    // MARK: Every wrong state

    @Test("every action in every state where it is not allowed: SQL BT409, API 409 wrong_state, CLI exit 4; nothing changed")
    func everyWrongState() async throws {
        let db = try await TestDatabase.create()
        let fixture = try await Fixture.make(db)
        let before = try await Fixture.fingerprint(db)

        // (SQL function, API route, CLI command, where it is allowed, the statuses it is allowed in)
        let actions: [(String, String, String, String, Set<String>)] = [
            ("proceed", "proceed-next-phase", "advance", "in AWAITING_PROCEED", ["AWAITING_PROCEED"]),
            ("retry", "retry", "retry", "in FAILED", ["FAILED"]),
            ("cancel", "cancel", "cancel", "before the session is COMPLETED or CANCELLED",
             ["PENDING", "THINKING", "EXECUTING", "INTEGRATING", "AWAITING_PROCEED", "FAILED"]),
        ]
        let wrong = actions.flatMap { function, route, command, allowed, statuses in
            Fixture.expected.filter { !statuses.contains($0.status) }.map { id, status in
                (function: function, route: route, command: command, id: id,
                 message: "session \(sqlLiteral(id)) is \(status); \(function) is allowed only \(allowed)",
                 // `baton advance` says it in the CLI's words, with what would help.
                 cliMessage: command == "advance"
                    ? "cannot advance session '\(id)': it is \(status), and only a session waiting at a gate (AWAITING_PROCEED) can be advanced"
                    : "session \(sqlLiteral(id)) is \(status); \(function) is allowed only \(allowed).")
            }
        }
        #expect(wrong.count == 9 + 10 + 3, "every session state is tried: \(wrong.count)")
        let taskStatuses = Set(fixture.idleTasks.map(\.status))
        #expect(taskStatuses == ["PENDING", "COMPLETED", "FAILED", "CANCELLED"], "\(fixture.idleTasks)")

        // SQL.
        for action in wrong {
            await expectSQLState(db, "SELECT baton.\(action.function)($1)", [action.id], "BT409", action.message)
        }
        for (task, status) in fixture.idleTasks {
            await expectSQLState(db, "SELECT baton.complete_task($1::bigint, '{\"late\": true}')", [task], "BT409",
                                 "task \(task) is \(status); only a RUNNING task can be completed")
            await expectSQLState(db, "SELECT baton.fail_task($1::bigint, 'late')", [task], "BT409",
                                 "task \(task) is \(status); only a RUNNING task can be failed")
        }

        // HTTP API.
        try await withAPI(db) { http, _ in
            for action in wrong {
                let reply = try await http.post("/api/sessions/\(pathEncoded(action.id))/\(action.route)")
                #expect(reply.status == 409 && reply.errorCode == "wrong_state", "\(action.route) \(action.id): \(reply.status) \(reply.body)")
                #expect(has(reply.errorMessage, action.message), "'\(reply.errorMessage)' lacks '\(action.message)'")
            }
            for (task, status) in fixture.idleTasks {
                let completed = try await http.post("/api/tasks/\(task)/complete", #"{"result": {"late": true}}"#)
                #expect(completed.status == 409 && completed.errorCode == "wrong_state", "\(completed.body)")
                #expect(completed.errorMessage == "task \(task) is \(status); only a RUNNING task can be completed", "\(completed.body)")
                let failed = try await http.post("/api/tasks/\(task)/fail", #"{"error": "late"}"#)
                #expect(failed.status == 409 && failed.errorCode == "wrong_state", "\(failed.body)")
                #expect(failed.errorMessage == "task \(task) is \(status); only a RUNNING task can be failed", "\(failed.body)")
            }
        }

        // CLI.
        let env = ["DATABASE_URL": db.url]
        let results = try await runConcurrently(wrong.map { ([$0.command, $0.id], nil) }, environment: env)
        for (action, result) in zip(wrong, results) {
            #expect(result.status == 4, "baton \(action.command) \(action.id): exit \(result.status): \(result.output)")
            #expect(has(result.output, "baton: error: " + action.cliMessage), "'\(result.output)' lacks '\(action.cliMessage)'")
        }

        #expect(try await Fixture.fingerprint(db) == before, "no action in a wrong state changed the database")

        // Each action works where it is allowed, through each interface.
        try await db.query("SELECT baton.proceed('bi-awaiting-step')")
        #expect(try await db.status("bi-awaiting-step") == "EXECUTING")
        try await withAPI(db) { http, _ in
            let retried = try await http.post("/api/sessions/bi-failed/retry")
            #expect(retried.status == 200 && retried.object["status"] as? String == "THINKING", "\(retried.body)")
            let completed = try await http.post("/api/tasks/\(fixture.runningTask)/complete", #"{"result": {"done": true}}"#)
            #expect(completed.status == 200 && completed.object["status"] as? String == "EXECUTING", "\(completed.body)")
        }
        let cancel = try await runBaton(["cancel", "bi-pending"], environment: env)
        #expect(cancel.status == 0 && cancel.output.contains("CANCELLED"), "\(cancel.output)")
        #expect(try await Fixture.fingerprint(db) != before)
    }
}

// MARK: - The fixture

/// Sessions in every state a user can meet, made through the SQL functions alone: a step "runs"
/// when `baton.claim_tasks` claims it (on a connection of its own, closed afterwards) and ends
/// through `baton.complete_task` or `baton.fail_task`, as an HTTP handler's 202 hand-off would.
struct Fixture: Sendable {
    /// An id with quotes, a backslash, SQL, an emoji, right-to-left text and a combining accent.
    static let weirdID = "it's \"quoted\" \\ ; DROP TABLE baton.sessions;-- 🎉 שלום e\u{301}"

    /// Every session and its status.
    static let expected: [(id: String, status: String)] = [
        ("bi-pending", "PENDING"),
        ("bi-running", "THINKING"),          // its THINK step RUNNING
        ("bi-retrying", "THINKING"),         // its THINK step failed once, PENDING for a retry
        ("bi-executing", "EXECUTING"),
        ("bi-integrating", "INTEGRATING"),
        ("bi-awaiting-phase", "AWAITING_PROCEED"),  // at the gate before phase 2
        ("bi-awaiting-step", "AWAITING_PROCEED"),   // steps do not auto-advance: before EXECUTE
        ("bi-completed", "COMPLETED"),
        ("bi-failed", "FAILED"),
        ("bi-cancelled", "CANCELLED"),
        (weirdID, "COMPLETED"),
    ]

    /// The RUNNING THINK step of bi-running.
    let runningTask: String
    /// Every task that is not RUNNING, with its status.
    let idleTasks: [(id: String, status: String)]

    static func make(_ db: TestDatabase) async throws -> Fixture {
        let connection = DatabaseConnection(settings: db.settings, label: "fixture", preparedStatements: false)
        func create(_ id: String, kind: String, phases: Int = 1, autoSteps: Bool = true) async throws {
            try await connection.query("SELECT baton.create_session($1::int, '{}', $2, $3, $4::boolean)",
                                       [String(phases), id, kind, autoSteps ? "t" : "f"])
        }
        func claim(_ kind: String, maxAttempts: Int = 4) async throws -> String {
            let result = try await connection.query(
                "SELECT task_id FROM baton.claim_tasks('bad-input-fixture', 1, ARRAY[$1], $2::int, 60000) WHERE NOT lock_busy",
                [kind, String(maxAttempts)])
            return try #require(result.rows.first?.first ?? nil, "a step of kind \(kind) to claim")
        }
        func succeed(_ kind: String, times: Int) async throws {
            for _ in 0..<times {
                try await connection.query("SELECT baton.complete_task($1::bigint, '{\"ok\": true}')", [try await claim(kind)])
            }
        }
        try await create("bi-pending", kind: "bi-pending")
        try await create("bi-running", kind: "bi-running")
        let running = try await claim("bi-running")
        try await create("bi-retrying", kind: "bi-retrying")
        try await connection.query("SELECT baton.fail_task($1::bigint, 'flaky')", [try await claim("bi-retrying")])
        try await create("bi-executing", kind: "bi-executing")
        try await succeed("bi-executing", times: 1)
        try await create("bi-integrating", kind: "bi-integrating")
        try await succeed("bi-integrating", times: 2)
        try await create("bi-awaiting-phase", kind: "bi-awaiting-phase", phases: 2)
        try await succeed("bi-awaiting-phase", times: 3)
        try await create("bi-awaiting-step", kind: "bi-awaiting-step", autoSteps: false)
        try await succeed("bi-awaiting-step", times: 1)
        try await create("bi-completed", kind: "bi-completed")
        try await succeed("bi-completed", times: 3)
        try await create("bi-failed", kind: "bi-failed")
        try await connection.query("SELECT baton.fail_task($1::bigint, 'broken')", [try await claim("bi-failed", maxAttempts: 1)])
        try await create("bi-cancelled", kind: "bi-cancelled", phases: 2)
        try await succeed("bi-cancelled", times: 1)
        try await connection.query("SELECT baton.cancel('bi-cancelled')")
        try await create(weirdID, kind: "bi-weird")
        try await succeed("bi-weird", times: 3)
        await connection.close()
        // A schedule that a mistaken run-now or replace would show in the fingerprint.
        try await db.query("SELECT baton.schedule('bi-schedule', interval '1 day', 'bi-scheduled')")

        func byBytes(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }
        let statuses = try await db.query("SELECT id, status FROM baton.sessions").rows
            .map { "\($0[0] ?? "") = \($0[1] ?? "")" }.sorted(by: byBytes)
        #expect(statuses == expected.map { "\($0.id) = \($0.status)" }.sorted(by: byBytes), "the fixture has every state")
        #expect(try await db.scalar("SELECT status FROM baton.tasks WHERE id = $1::bigint", [running]) == "RUNNING")
        let idle = try await db.query("SELECT id::text, status FROM baton.tasks WHERE status <> 'RUNNING' ORDER BY id").rows
            .map { (id: $0[0] ?? "", status: $0[1] ?? "") }
        return Fixture(runningTask: running, idleTasks: idle)
    }

    /// One hash of every row of sessions, tasks and attempts, and of the schema's tables and
    /// functions (so a dropped or added table shows too).
    static func fingerprint(_ db: TestDatabase) async throws -> String {
        try #require(try await db.scalar("""
            SELECT md5(concat_ws(' # ',
                (SELECT string_agg(s::text, ' | ' ORDER BY s.id) FROM baton.sessions s),
                (SELECT string_agg(t::text, ' | ' ORDER BY t.id) FROM baton.tasks t),
                (SELECT string_agg(a::text, ' | ' ORDER BY a.task_id, a.attempt) FROM baton.attempts a),
                (SELECT string_agg(x::text, ' | ' ORDER BY x.name) FROM baton.schedules x),
                (SELECT string_agg(r::text, ' | ' ORDER BY r.schedule, r.due_at) FROM baton.schedule_runs r),
                (SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname)
                 FROM pg_class c WHERE c.relnamespace = 'baton'::regnamespace),
                (SELECT string_agg(p.proname || md5(p.prosrc), ',' ORDER BY p.oid)
                 FROM pg_proc p WHERE p.pronamespace = 'baton'::regnamespace)))
            """))
    }
}

// MARK: - Helpers

/// Ids no session has: SQL, quotes, backslashes, emoji, right-to-left text, combining marks,
/// near misses of real ids (case, spaces, a newline, Unicode normalization), path characters.
let hostileIDs: [String] = {
    let nfc = Fixture.weirdID.precomposedStringWithCanonicalMapping
    precondition(Array(nfc.utf8) != Array(Fixture.weirdID.utf8), "the NFC form differs in bytes")
    return [
        "no-such-session",
        "'; DROP TABLE baton.sessions;--",
        "Robert'); DELETE FROM baton.tasks;--",
        "back\\slash",
        "\"double\" 'single'",
        "🎉🔥👩‍👩‍👧",
        "שלום עולם",
        "\u{202E}gnp.exe",
        "e\u{301}\u{302}\u{303}",
        "BI-COMPLETED",
        "bi-completed ",
        " bi-completed",
        "bi-completed\n",
        "%27",
        "a/b",
        "",
        nfc,  // the fixture's id in another Unicode normalization: other bytes, another id
    ]
}()

/// A string as PostgreSQL's quote_literal writes it in Baton's SQL error messages.
func sqlLiteral(_ value: String) -> String {
    var body = ""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "'": body += "''"
        case "\\": body += "\\\\"
        default: body.unicodeScalars.append(scalar)
        }
    }
    return (value.unicodeScalars.contains("\\") ? "E'" : "'") + body + "'"
}

/// Percent-encodes every byte but the unreserved ASCII characters.
func pathEncoded(_ value: String) -> String {
    var out = ""
    for byte in value.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
    }
    return out
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}

/// True when `text` holds `fragment` byte for byte (String's own `contains` treats canonically
/// equivalent text as equal, which would hide a change of normalization).
func has(_ text: String, _ fragment: String) -> Bool {
    let haystack = Array(text.utf8)
    let needle = Array(fragment.utf8)
    guard !needle.isEmpty else { return true }
    guard needle.count <= haystack.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
    }
    return false
}

/// Expects `sql` to fail with `state` and a message holding `fragment`.
func expectSQLState(_ db: TestDatabase, _ sql: String, _ parameters: [String?], _ state: String, _ fragment: String,
                    sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        try await db.query(sql, parameters)
        Issue.record("\(sql) \(parameters) succeeded; expected SQLSTATE \(state)", sourceLocation: sourceLocation)
    } catch {
        let database = error as? DatabaseError
        #expect(database?.sqlState == state, "\(sql) \(parameters): \(error)", sourceLocation: sourceLocation)
        if case .server(_, let message, _, _)? = database {
            #expect(has(message, fragment), "'\(message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
        }
    }
}

/// Runs `baton` commands, six at a time; the results come in the order of `commands`.
func runConcurrently(_ commands: [([String], String?)], environment: [String: String]) async throws -> [(status: Int32, output: String)] {
    try await withThrowingTaskGroup(of: (Int, Int32, String).self) { group in
        var results = [(status: Int32, output: String)](repeating: (-1, ""), count: commands.count)
        var next = 0
        func start() {
            guard next < commands.count else { return }
            let index = next
            let (arguments, stdin) = commands[index]
            group.addTask {
                let result = try await runBaton(arguments, environment: environment, stdin: stdin)
                return (index, result.status, result.output)
            }
            next += 1
        }
        for _ in 0..<6 { start() }
        while let (index, status, output) = try await group.next() {
            results[index] = (status, output)
            start()
        }
        return results
    }
}

/// POSTs a body in chunks, with no Content-Length.
func sendChunked(_ http: HTTPTestClient, _ path: String, _ chunks: [String]) async throws -> HTTPReply {
    var request = HTTPClientRequest(url: http.base + path)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
    for chunk in chunks { continuation.yield(ByteBuffer(string: chunk)) }
    continuation.finish()
    request.body = .stream(stream, length: .unknown)
    let response = try await http.client.execute(request, timeout: .seconds(60))
    let buffer = try await response.body.collect(upTo: 1 << 20)
    return HTTPReply(status: Int(response.status.code), headers: [:], body: String(buffer: buffer))
}
