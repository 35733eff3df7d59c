import Baton
import Foundation
import Testing

/// AUTO_PROGRESS_*: kept in the database by `baton migrate`, so that sessions created from plain
/// SQL without saying get the deployment's defaults; a worker says where they apply.
// Serialized: each test runs workers and handler processes; one at a time keeps the suite
// from crowding a small machine while the other suites run.
@Suite(.serialized) struct SessionDefaultsTests {
    private func created(_ db: TestDatabase, _ sql: String) async throws -> String {
        try #require(try await db.query(sql).first.map { "\($0["auto_steps"] ?? "?")\($0["auto_phases"] ?? "?")" })
    }

    @Test func sessionsCreatedFromSQLGetTheStoredDefaults() async throws {
        let db = try await TestDatabase.create()
        let one = "SELECT auto_steps, auto_phases FROM baton.create_session(1, '{}')"
        let bulk = "SELECT auto_steps, auto_phases FROM baton.create_sessions(1, ARRAY['{}'::jsonb])"
        #expect(try await created(db, one) == "tf", "true and false until a deployment says otherwise")

        var environment = db.environment
        environment["AUTO_PROGRESS_STEPS"] = "false"
        environment["AUTO_PROGRESS_PHASES"] = "true"
        let migrated = try await runBaton(["migrate"], environment: environment)
        #expect(migrated.status == 0, "\(migrated.output)")
        #expect(migrated.output.contains("AUTO_PROGRESS_STEPS=false AUTO_PROGRESS_PHASES=true"), "\(migrated.output)")
        #expect(try await created(db, one) == "ft")
        #expect(try await created(db, bulk) == "ft")
        // Saying wins; saying one keeps the other's default.
        #expect(try await created(db, "SELECT auto_steps, auto_phases FROM baton.create_session(1, '{}', NULL, 'default', true, false)") == "tf")
        #expect(try await created(db, "SELECT auto_steps, auto_phases FROM baton.create_session(1, '{}', auto_steps => true)") == "tt")
        #expect(try await db.pool.sessionDefaults() == SessionDefaults(autoSteps: false, autoPhases: true))

        // One variable set changes that one only; a migrate without them leaves both.
        environment["AUTO_PROGRESS_STEPS"] = nil
        environment["AUTO_PROGRESS_PHASES"] = "false"
        #expect(try await runBaton(["migrate"], environment: environment).status == 0)
        #expect(try await runBaton(["migrate"], environment: db.environment).status == 0)
        #expect(try await created(db, one) == "ff")

        environment["AUTO_PROGRESS_PHASES"] = "maybe"
        let bad = try await runBaton(["migrate"], environment: environment)
        #expect(bad.status == 2 && bad.output.contains("AUTO_PROGRESS_PHASES"), "\(bad.output)")
        #expect(try await db.pool.sessionDefaults() == SessionDefaults(autoSteps: false, autoPhases: false))
    }

    @Test func aWorkerStartedWithThemSaysWhereTheyApply() async throws {
        let db = try await TestDatabase.create()
        var environment = db.environment
        environment["AUTO_PROGRESS_PHASES"] = "true"
        environment["BATON_HANDLER"] = "builtin:echo"
        let worker = try BatonProcess(["worker"], environment: environment)
        defer { worker.kill() }
        try await worker.awaitOutput("they apply where sessions are created")
        #expect(worker.output.contains("AUTO_PROGRESS_STEPS=true AUTO_PROGRESS_PHASES=false"), "the database's defaults: \(worker.output)")
        worker.kill(SIGTERM)
        #expect(await worker.waitForExit() == 0)
    }
}
