import Baton
import Foundation
import Testing

/// `baton migrate --roles`: an application's role may steer sessions through the client
/// functions and read them, and cannot write Baton's tables; a worker's role runs sessions.
// Serialized: each test runs workers and handler processes; one at a time keeps the suite
// from crowding a small machine while the other suites run.
@Suite(.serialized) struct RoleTests {
    /// A login role with `granted`, named for this test's database (roles are cluster-wide).
    private func login(_ db: TestDatabase, _ suffix: String, granted: String) async throws -> DatabaseConnection {
        let name = "\(db.name)_\(suffix)"
        _ = try await db.query("CREATE ROLE \(name) LOGIN")  // the name is this test's own, not input
        _ = try await db.query("GRANT \(granted) TO \(name)")
        let url = db.directURL.replacingOccurrences(of: "://postgres@", with: "://\(name)@")
        return DatabaseConnection(settings: try ConnectionSettings(url), label: suffix, preparedStatements: false)
    }

    private func refused(_ connection: DatabaseConnection, _ sql: String) async -> Bool {
        do {
            _ = try await connection.query(sql)
            return false
        } catch {
            return "\(error)".contains("permission denied")
        }
    }

    @Test func theApplicationRoleSteersSessionsOnlyThroughTheClientFunctions() async throws {
        let db = try await TestDatabase.create()
        let migrated = try await runBaton(["migrate", "--roles"], environment: db.environment)
        #expect(migrated.status == 0, "\(migrated.output)")
        #expect(migrated.output.contains("roles baton_client and baton_worker"), "\(migrated.output)")
        let app = try await login(db, "app", granted: "baton_client")
        defer { Task { await app.close() } }

        let id = try #require(try await app.query("SELECT id FROM baton.create_session(2, '{\"a\": 1}')").first?["id"])
        #expect(try await app.query("SELECT status FROM baton.sessions WHERE id = $1", [id]).first?["status"] == "PENDING")
        #expect(try await app.query("SELECT count(*) AS n FROM baton.tasks WHERE session_id = $1", [id]).first?["n"] == "1")
        _ = try await app.query("SELECT baton.schedule('nightly', interval '1 day', 'reports')")
        _ = try await app.query("SELECT * FROM baton.run_schedule('nightly')")
        _ = try await app.query("SELECT baton.unschedule('nightly')")
        _ = try await app.query("SELECT baton.stats()")

        // Straight writes to Baton's tables are refused, and so is playing worker.
        for sql in [
            "INSERT INTO baton.tasks (session_id, kind, phase, step) VALUES ('\(id)', 'default', 2, 'THINK')",
            "UPDATE baton.sessions SET status = 'COMPLETED' WHERE id = '\(id)'",
            "UPDATE baton.tasks SET status = 'RUNNING'",
            "DELETE FROM baton.sessions",
            "DELETE FROM baton.attempts",
            "SELECT * FROM baton.claim_tasks('intruder', 10)",
            "SELECT baton.prune_sessions(interval '1 minute')",
        ] {
            #expect(await refused(app, sql), "\(sql)")
        }
        #expect(try await db.status(id) == "PENDING")
        #expect(try await db.scalar("SELECT count(*) FROM baton.tasks WHERE session_id = $1", [id]) == "1")

        // A role that was given neither cannot even call the client functions.
        let stranger = try await login(db, "stranger", granted: "pg_read_all_data")
        defer { Task { await stranger.close() } }
        #expect(await refused(stranger, "SELECT baton.create_session(1, '{}')"))

        // A worker under baton_worker runs the session; the application proceeds at the gate.
        let workerName = "\(db.name)_worker"
        let worker = try await login(db, "worker", granted: "baton_worker")
        await worker.close()
        let workerDB = try TestDatabase.attach(url: db.directURL.replacingOccurrences(of: "://postgres@", with: "://\(workerName)@"))
        try await withWorker(workerDB) {
            try await db.awaitStatus(id, .awaitingProceed)
            _ = try await app.query("SELECT baton.proceed($1)", [id])
            try await db.awaitStatus(id, .completed)
        }
        #expect(try await app.query("SELECT (baton.cancel((baton.create_session(1, '{}')).id)).status").first?["status"] == "CANCELLED")
    }

    @Test func aLaterMigrateKeepsTheGrantsWhenFunctionFilesAreApplied() async throws {
        let db = try await TestDatabase.create()
        #expect(try await runBaton(["migrate", "--roles"], environment: db.environment).status == 0)
        // Forget a client function's checksum: the next migrate re-applies its file, which
        // resets the function's attributes; the grants must come back with it.
        _ = try await db.query("DELETE FROM baton.schema_functions WHERE name = 'create_session.sql'")
        let again = try await runBaton(["migrate"], environment: db.environment)
        #expect(again.status == 0 && again.output.contains("create_session.sql"), "\(again.output)")
        let app = try await login(db, "app", granted: "baton_client")
        defer { Task { await app.close() } }
        #expect(try await app.query("SELECT id FROM baton.create_session(1, '{}')").first?["id"] != nil)
    }

    @Test func aDatabaseThatDidNotOptInIsLeftAlone() async throws {
        let db = try await TestDatabase.create()
        // The roles may exist already (other databases of this cluster opted in): no grants here.
        let other = try await TestDatabase.create()
        #expect(try await runBaton(["migrate", "--roles"], environment: other.environment).status == 0)
        #expect(try await runBaton(["migrate"], environment: db.environment).status == 0)
        #expect(try await db.scalar("SELECT has_schema_privilege('baton_client', 'baton', 'USAGE')") == "f")
        #expect(try await db.scalar("SELECT prosecdef FROM pg_proc WHERE oid = 'baton.cancel(text)'::regprocedure") == "f")
    }
}
