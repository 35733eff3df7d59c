import Baton
import Foundation
import Logging
import Testing

@Suite struct MigrationTests {
    func migrate(_ db: TestDatabase) async throws -> Migrator.Report {
        let connection = DatabaseConnection(settings: db.settings, label: "m", preparedStatements: false)
        defer { Task { await connection.close() } }
        return try await Migrator(logger: testLogger()).migrate(connection)
    }

    @Test func migrateIsIdempotentAndRecordsChecksums() async throws {
        let db = try await TestDatabase.create(migrated: false)
        let first = try await migrate(db)
        #expect(first.applied == Migration.all.map(\.name))
        let second = try await migrate(db)
        #expect(second.applied.isEmpty)
        #expect(second.alreadyApplied == Migration.all.map(\.name))
        let recorded = try await db.query("SELECT name, length(checksum) AS n FROM baton.schema_migrations ORDER BY version")
        #expect(recorded.records.map { $0["name"] } == Migration.all.map(\.name))
        #expect(recorded.records.allSatisfy { $0["n"] == "64" }, "SHA-256 hex")
    }

    @Test func aChangedMigrationIsRefusedByName() async throws {
        let db = try await TestDatabase.create()
        try await db.query("UPDATE baton.schema_migrations SET checksum = 'deadbeef' WHERE version = 3")
        await #expect {
            _ = try await migrate(db)
        } throws: { error in
            "\(error)".contains("migration 0003_client_api.sql was changed after it was applied")
        }
    }

    @Test func concurrentMigratorsApplyEachFileOnce() async throws {
        let db = try await TestDatabase.create(migrated: false)
        let reports = try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
            for _ in 0..<4 { group.addTask { try await migrate(db) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.flatMap(\.applied).sorted() == Migration.all.map(\.name).sorted(), "each file applied by exactly one")
        #expect(try await db.scalar("SELECT count(*) FROM baton.schema_migrations") == String(Migration.all.count))
    }

    /// `psql -f` on the files in order gives the schema `baton migrate` gives.
    @Test func psqlOnTheFilesYieldsTheSameSchema() async throws {
        let viaMigrate = try await TestDatabase.create()
        let viaPsql = try await TestDatabase.create(migrated: false)
        let sqlDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: sqlDirectory.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == Migration.all.map(\.name), "the binary carries exactly the files in sql/")
        for file in files {
            let result = try shell("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", viaPsql.url, "-f", sqlDirectory.appending(path: file).path])
            #expect(result.status == 0, "\(file): \(result.output)")
        }
        // pg_dump wraps its output in \restrict lines with a random key; the rest must match.
        func dump(_ url: String) throws -> String {
            try shell("pg_dump", ["--schema-only", "--schema=baton", "-d", url]).output
                .split(separator: "\n").filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }
                .joined(separator: "\n")
        }
        let a = try dump(viaMigrate.url)
        let b = try dump(viaPsql.url)
        #expect(a.contains("CREATE TABLE baton.sessions"))
        #expect(a == b)
    }

    /// A database at the schema before watches and schedules (0001–0007), with sessions in every
    /// state, one of them held by a worker that is gone, migrates and keeps working.
    @Test func aDatabaseOfTheEarlierSchemaUpgradesAndKeepsWorking() async throws {
        let db = try await TestDatabase.create(migrated: false)
        let connection = DatabaseConnection(settings: db.directSettings, label: "m", preparedStatements: false)
        _ = try await Migrator(migrations: Migration.all.filter { $0.version <= 7 }, logger: testLogger()).migrate(connection)
        func session(_ id: String, phases: Int = 1, kind: String = "default") async throws {
            try await db.query("SELECT baton.create_session($1::int, '{}', $2, $3)", [String(phases), id, kind])
        }
        try await session("pending")
        try await session("gate", phases: 2)
        try await session("failed")
        try await session("cancelled")
        try await session("completed")
        try await session("orphaned", kind: "orphan")
        // Moved on by hand through allowed changes, as workers would have.
        try await db.query("UPDATE baton.tasks SET status = 'COMPLETED', result = '{}' WHERE session_id IN ('gate', 'completed')")
        try await db.query("UPDATE baton.sessions SET status = 'THINKING' WHERE id IN ('gate', 'failed', 'completed')")
        try await db.query("UPDATE baton.sessions SET status = 'AWAITING_PROCEED', phase = 2, step = 'THINK' WHERE id = 'gate'")
        try await db.query("UPDATE baton.tasks SET status = 'FAILED', error = 'boom' WHERE session_id = 'failed'")
        try await db.query("UPDATE baton.sessions SET status = 'FAILED', error = 'boom' WHERE id = 'failed'")
        try await db.query("UPDATE baton.sessions SET status = 'EXECUTING', step = 'EXECUTE' WHERE id = 'completed'")
        try await db.query("UPDATE baton.sessions SET status = 'INTEGRATING', step = 'INTEGRATE' WHERE id = 'completed'")
        try await db.query("UPDATE baton.sessions SET status = 'COMPLETED', step = NULL WHERE id = 'completed'")
        try await db.query("SELECT baton.cancel('cancelled')")
        // A worker claims 'orphaned' with the old claim, then its connection goes away.
        let old = DatabaseConnection(settings: db.directSettings, label: "old-worker", preparedStatements: false)
        let claimed = try await old.query("SELECT task_id FROM baton.claim_tasks('old-worker', 1, ARRAY['orphan'])")
        #expect(claimed.count == 1)
        await old.close()
        #expect(try await db.scalar("SELECT id FROM baton.sessions WHERE status = 'THINKING'") == "orphaned")

        let report = try await Migrator(logger: testLogger()).migrate(connection)
        await connection.close()
        #expect(report.applied == Migration.all.filter { $0.version > 7 }.map(\.name))
        #expect(try await db.query("SELECT session_id, status FROM baton.parked_sessions ORDER BY 1").rows
                == [["failed", "FAILED"], ["gate", "AWAITING_PROCEED"]], "the sessions waiting for a person are counted")
        let stats = try await db.client.statistics()
        #expect(stats.kinds.map(\.kind) == ["default", "orphan"])
        #expect(stats.kinds.first?.sessions == ["PENDING": 1, "AWAITING_PROCEED": 1, "FAILED": 1, "CANCELLED": 1, "COMPLETED": 1])
        #expect(stats.kinds.last?.sessions == ["THINKING": 1])
        _ = try await db.client.proceed("gate")
        _ = try await db.client.retry("failed")
        try await withWorker(db) {
            for id in ["pending", "gate", "failed", "orphaned"] { try await db.awaitStatus(id, .completed) }
        }
        #expect(try await db.scalar("SELECT outcome FROM baton.attempts WHERE session_id = 'orphaned' ORDER BY attempt LIMIT 1") == "RESCUED")
        #expect(try await db.status("cancelled") == "CANCELLED")
        #expect(try await db.status("completed") == "COMPLETED")
        #expect(try await db.scalar("SELECT count(*) FROM baton.parked_sessions") == "0")
    }

    func shell(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
