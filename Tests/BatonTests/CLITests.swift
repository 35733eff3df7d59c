import Baton
import Foundation
import Testing

/// The command line: clear messages and exit codes, `--json`, and no secret in any output.
@Suite struct CLITests {
    @Test func errorsHaveClearMessagesAndExitCodes() async throws {
        let db = try await TestDatabase.create()
        let env = ["DATABASE_URL": db.url]
        let unknown = try await runBaton(["advance", "no-such-id"], environment: env)
        #expect(unknown.status == 3)
        #expect(unknown.output.contains("unknown session 'no-such-id'"))

        let id = try await db.createSession()
        let wrong = try await runBaton(["advance", id], environment: env)
        #expect(wrong.status == 4)
        #expect(wrong.output.contains("cannot advance session '\(id)': it is PENDING, and only a session waiting at a gate (AWAITING_PROCEED) can be advanced"))

        let badJSON = try await runBaton(["session", "create", "--input", "{\"a\": }"], environment: env)
        #expect(badJSON.status == 5)
        #expect(badJSON.output.contains("the session input is not valid JSON: unexpected character, expected a JSON value at byte 6"))

        let badPhases = try await runBaton(["session", "create", "--phases", "0"], environment: env)
        #expect(badPhases.status == 5)
        #expect(badPhases.output.contains("phases must be between 1 and 1000 (got 0)"))

        let badStatus = try await runBaton(["session", "list", "--status", "DONE"], environment: env)
        #expect(badStatus.status == 5 && badStatus.output.contains("unknown status 'DONE'"))

        let noURL = try await runBaton(["stats"], environment: [:])
        #expect(noURL.status == 2 && noURL.output.contains("set DATABASE_URL"))

        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == "1", "failed commands created nothing")
    }

    @Test func aWorkerRefusesADatabaseWithoutTheSchema() async throws {
        let empty = try await TestDatabase.create(migrated: false)
        let result = try await runBaton(["worker", "--handler", "builtin:echo"], environment: ["DATABASE_URL": empty.url])
        #expect(result.status == 2)
        #expect(result.output.contains("the database has no Baton schema: run `baton migrate` first"))
    }

    @Test func jsonOutputIsJSON() async throws {
        let db = try await TestDatabase.create()
        let env = ["DATABASE_URL": db.url]
        let created = try await runBaton(["session", "create", "--phases", "2", "--input", "-", "--json", "--id", "cli-1"],
                                   environment: env, stdin: "{\"from\": \"stdin\"}")
        #expect(created.status == 0, "\(created.output)")
        let session = try JSONDecoder().decode(Session.self, from: Data(created.output.utf8))
        #expect(session.id == "cli-1" && session.totalPhases == 2 && session.input["from"] == .string("stdin"))
        for command in [["progress", "cli-1"], ["session", "show", "cli-1"], ["session", "list"], ["stats"], ["health"]] {
            let result = try await runBaton(command + ["--json"], environment: env)
            #expect(result.status == 0, "\(command): \(result.output)")
            #expect((try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) != nil, "\(command) prints JSON")
        }
        let progress = try JSONDecoder().decode(SessionProgress.self, from: Data(try await runBaton(["progress", "cli-1", "--json"], environment: env).output.utf8))
        #expect(progress.sessionId == "cli-1" && progress.status == .pending && progress.totalPhases == 2)
        #expect(progress.completedPhases == [])
        // The text form keeps a readable count of the finished phases.
        let text = try await runBaton(["progress", "cli-1"], environment: env)
        #expect(text.status == 0 && text.output.contains("phase     1 of 2 (0 completed)"), "\(text.output)")
    }

    @Test func listingPagesWithACursor() async throws {
        let db = try await TestDatabase.create()
        for i in 0..<5 { try await db.query("SELECT baton.create_session(1, '{}', $1)", ["s\(i)"]) }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await db.client.listSessions(limit: 2, after: cursor)
            seen += page.sessions.map(\.id)
            cursor = page.nextCursor
            // The cursor names the page's last session: its created_at in microseconds and its id.
            if let next = cursor, let last = page.sessions.last {
                let micros = try await db.query(
                    "SELECT (extract(epoch FROM created_at) * 1000000)::bigint AS us FROM baton.sessions WHERE id = $1", [last.id])
                #expect(SessionCursor(text: next) == SessionCursor(microseconds: try micros.records[0].int64("us"), id: last.id))
            }
        } while cursor != nil
        #expect(seen.sorted() == ["s0", "s1", "s2", "s3", "s4"])
        #expect(Set(seen).count == 5, "no session twice")
    }

    /// A connection URL with a password never shows up in output, whatever fails.
    @Test func thePasswordAppearsInNoOutput() async throws {
        let secret = "Sup3r-Secret-Passw0rd"
        let urls = [
            "postgresql://baton_secret:\(secret)@127.0.0.1:\(TestEnvironment.port)/postgres",  // wrong password
            "postgresql://baton_secret:\(secret)@127.0.0.1:1/postgres",  // nothing listens
            "postgresql://baton_secret:\(secret)@127.0.0.1:\(TestEnvironment.port)/postgres?sslmode=bogus",  // bad option
        ]
        for url in urls {
            for command in [["migrate"], ["health"], ["session", "list"], ["stats", "--json"], ["worker", "--handler", "builtin:echo"]] {
                if command[0] == "worker" && url == urls[1] { continue }  // waits for the database: below
                let result = try await runBaton(command, environment: ["DATABASE_URL": url])
                #expect(result.status != 0, "\(command) must fail")
                #expect(!result.output.contains(secret), "\(command) leaked the password: \(result.output)")
                #expect(!result.output.isEmpty, "\(command) says what went wrong")
            }
        }
        // A worker started while nothing listens waits for the database, and says so without the
        // password; SIGTERM ends the wait.
        let waiting = try BatonProcess(["worker", "--handler", "builtin:echo"], environment: ["DATABASE_URL": urls[1]])
        try await waiting.awaitOutput("database unreachable at start; waiting for it")
        waiting.kill(SIGTERM)
        #expect(await waiting.waitForExit() == 0)
        #expect(!waiting.output.contains(secret), "the worker leaked the password: \(waiting.output)")
        #expect(waiting.output.contains("Connection refused"), "\(waiting.output)")

        let wrong = try await runBaton(["health"], environment: ["DATABASE_URL": urls[0]])
        #expect(wrong.status == 6 && wrong.output.contains("password authentication failed"))
        // And in the library's own errors.
        let settings = try ConnectionSettings(urls[0])
        #expect(!settings.description.contains(secret))
        await #expect {
            try await DatabaseConnection(settings: settings, label: "t", preparedStatements: false).connect()
        } throws: { !"\($0)".contains(secret) }
    }
}
