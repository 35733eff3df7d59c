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

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// Today's texts of 0001–0012 as the baton before sql/functions carried them.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures/schema-v12")

    @Test func migrateIsIdempotentAndRecordsChecksums() async throws {
        let db = try await TestDatabase.create(migrated: false)
        let first = try await migrate(db)
        #expect(first.applied == Migration.all.map(\.name))
        #expect(first.functionsApplied == FunctionFile.all.map(\.name))
        let second = try await migrate(db)
        #expect(second.applied.isEmpty && second.functionsApplied.isEmpty)
        #expect(second.alreadyApplied == Migration.all.map(\.name))
        #expect(second.functionsUnchanged == FunctionFile.all.map(\.name))
        let recorded = try await db.query("SELECT name, length(checksum) AS n FROM baton.schema_migrations ORDER BY version")
        #expect(recorded.records.map { $0["name"] } == Migration.all.map(\.name))
        #expect(recorded.records.allSatisfy { $0["n"] == "64" }, "SHA-256 hex")
        let functions = try await db.query("SELECT name, length(checksum) AS n FROM baton.schema_functions ORDER BY name COLLATE \"C\"")
        #expect(functions.records.map { $0["name"] } == FunctionFile.all.map(\.name))
        #expect(functions.records.allSatisfy { $0["n"] == "64" }, "SHA-256 hex")
        #expect(try await Migrator().schemaState(db.pool) == .current)
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
        #expect(reports.flatMap(\.functionsApplied).sorted() == FunctionFile.all.map(\.name).sorted(), "each function file applied by exactly one")
        #expect(try await db.scalar("SELECT count(*) FROM baton.schema_migrations") == String(Migration.all.count))
    }

    /// A changed function file is applied by the next `baton migrate`, alone: the other files'
    /// functions and triggers are not touched (their catalog rows keep their transaction ids),
    /// so their tables are not locked. Until then, workers refuse to start.
    @Test func aChangedFunctionFileIsReappliedAlone() async throws {
        let db = try await TestDatabase.create()
        // As if the database had an older next_run_at than this binary.
        try await db.query("""
            CREATE OR REPLACE FUNCTION baton.next_run_at(kinds text[] DEFAULT NULL) RETURNS timestamptz
            LANGUAGE sql STABLE AS $$ SELECT NULL::timestamptz $$
            """)
        try await db.query("UPDATE baton.schema_functions SET checksum = 'older' WHERE name = 'next_run_at.sql'")
        #expect(try await Migrator().schemaState(db.pool) == .functionsDiffer(files: ["next_run_at.sql"]))
        let refused = try await runBaton(["worker", "--handler", "builtin:echo"], environment: ["DATABASE_URL": db.url])
        #expect(refused.status == 2)
        #expect(refused.output.contains("the database's SQL functions differ from this baton's (1 of its function files: next_run_at.sql): run `baton migrate`"),
                "\(refused.output)")

        func catalogVersions() async throws -> [String: String] {
            let rows = try await db.query("""
                SELECT 'function ' || p.proname AS object, p.xmin::text AS xid FROM pg_proc p
                WHERE p.pronamespace = 'baton'::regnamespace AND p.proname IN ('next_run_at', 'claim_tasks', 'notify_ready_tasks')
                UNION ALL
                SELECT 'trigger ' || t.tgname, t.xmin::text FROM pg_trigger t WHERE t.tgname = 'tasks_notify_insert'
                """)
            return Dictionary(uniqueKeysWithValues: try rows.records.map { (try $0.string("object"), try $0.string("xid")) })
        }
        let before = try await catalogVersions()
        let migrated = try await runBaton(["migrate"], environment: ["DATABASE_URL": db.url])
        #expect(migrated.status == 0)
        #expect(migrated.output.contains("functions applied: next_run_at.sql\n"), "\(migrated.output)")
        let after = try await catalogVersions()
        #expect(after.count == 4)
        #expect(after["function next_run_at"] != before["function next_run_at"], "replaced")
        for object in ["function claim_tasks", "function notify_ready_tasks", "trigger tasks_notify_insert"] {
            #expect(after[object] == before[object], "\(object) untouched")
        }
        let id = try await db.createSession()
        #expect(try await db.scalar("SELECT baton.next_run_at() IS NOT NULL") == "t", "the binary's text again (\(id) is queued)")
        #expect(try await Migrator().schemaState(db.pool) == .current)
        #expect(try await runBaton(["migrate"], environment: ["DATABASE_URL": db.url]).output
                .contains("schema up to date (\(Migration.all.count) migrations and \(FunctionFile.all.count) function files applied earlier)"))
    }

    /// A database that a newer baton migrated (a migration this binary does not know) keeps its
    /// functions: this binary's may be older. Its workers start.
    @Test func aNewerBatonsFunctionsAreLeftAlone() async throws {
        let db = try await TestDatabase.create()
        try await db.query("INSERT INTO baton.schema_migrations (version, name, checksum) VALUES (9999, '9999_later.sql', 'x')")
        try await db.query("UPDATE baton.schema_functions SET checksum = 'newer' WHERE name = 'next_run_at.sql'")
        #expect(try await Migrator().schemaState(db.pool) == .newer(applied: 9999))
        let report = try await migrate(db)
        #expect(report.applied.isEmpty && report.functionsApplied.isEmpty && report.functionsUnchanged.isEmpty)
        #expect(try await db.scalar("SELECT checksum FROM baton.schema_functions WHERE name = 'next_run_at.sql'") == "newer")
    }

    /// `psql` on the files (migrations, then function files, in one transaction) gives the
    /// schema `baton migrate` gives.
    @Test func psqlOnTheFilesYieldsTheSameSchema() async throws {
        let viaMigrate = try await TestDatabase.create()
        let viaPsql = try await TestDatabase.create(migrated: false)
        func files(_ folder: String) throws -> [URL] {
            let directory = Self.repository.appending(path: "sql/\(folder)")
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
                .sorted().map { directory.appending(path: $0) }
        }
        let migrations = try files("migrations")
        let functions = try files("functions")
        #expect(migrations.map(\.lastPathComponent) == Migration.all.map(\.name), "the binary carries exactly the files in sql/migrations")
        #expect(functions.map(\.lastPathComponent) == FunctionFile.all.map(\.name), "the binary carries exactly the files in sql/functions")
        let carried = Migration.all.map(\.sql) + FunctionFile.all.map(\.sql)
        for (file, text) in zip(migrations + functions, carried) {
            #expect(try String(contentsOf: file, encoding: .utf8) == text,
                    "\(file.lastPathComponent): the binary carries another text; after adding or removing a file in sql/, touch Package.swift and build again")
        }
        let result = try shell("psql", ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", viaPsql.url,
                                        "-c", "SET check_function_bodies = off"]
                                       + (migrations + functions).flatMap { ["-f", $0.path] })
        #expect(result.status == 0, "\(result.output)")
        let a = try dumpSchema(viaMigrate)
        #expect(a.contains("CREATE TABLE baton.sessions"))
        #expect(a == (try dumpSchema(viaPsql)))
    }

    /// Each function lives in one file named for it, with nothing but its CREATE OR REPLACE
    /// (and its trigger, or its comment); the migrations define none. In a migrated database,
    /// the functions of schema baton are exactly those the files name, so none lingers.
    @Test func eachFunctionLivesInOneFileNamedForIt() async throws {
        for migration in Migration.all {
            for line in migration.sql.split(separator: "\n") where !line.hasPrefix("--") {
                #expect(!line.uppercased().contains("CREATE FUNCTION") && !line.uppercased().contains("CREATE OR REPLACE FUNCTION")
                        && !line.uppercased().contains("CREATE TRIGGER") && !line.uppercased().contains("CREATE OR REPLACE TRIGGER"),
                        "\(migration.name): functions and triggers belong in sql/functions: \(line)")
            }
        }
        var triggers: [String] = []
        for file in FunctionFile.all {
            let function = String(file.name.dropLast(".sql".count))
            #expect(file.sql.contains("CREATE OR REPLACE FUNCTION baton.\(function)("), "\(file.name) defines baton.\(function)")
            // Statements start in the first column; function bodies are indented or keywords.
            for line in file.sql.split(separator: "\n") {
                if line.hasPrefix("CREATE ") {
                    #expect(line.hasPrefix("CREATE OR REPLACE FUNCTION baton.\(function)(") || line.hasPrefix("CREATE OR REPLACE TRIGGER "),
                            "\(file.name): only CREATE OR REPLACE of baton.\(function) and its triggers: \(line)")
                }
                if line.hasPrefix("CREATE OR REPLACE TRIGGER ") { triggers.append(String(line.split(separator: " ")[4])) }
                for keyword in ["ALTER ", "DROP ", "INSERT ", "UPDATE ", "DELETE ", "GRANT ", "COMMENT ON TABLE", "CREATE TABLE", "CREATE INDEX"] {
                    #expect(!line.hasPrefix(keyword), "\(file.name): \(keyword)belongs in a migration: \(line)")
                }
            }
            for call in file.sql.split(separator: "EXECUTE FUNCTION baton.").dropFirst() {
                #expect(call.hasPrefix("\(function)()"), "\(file.name): a trigger of another function: \(call.prefix(40))")
            }
        }
        let db = try await TestDatabase.create()
        let functions = try await db.query("SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'baton'::regnamespace")
        #expect(Set(functions.rows.compactMap { $0[0] }) == Set(FunctionFile.all.map { String($0.name.dropLast(".sql".count)) }))
        let tableTriggers = try await db.query("""
            SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = 'baton'::regnamespace AND NOT t.tgisinternal
            """)
        #expect(Set(tableTriggers.rows.compactMap { $0[0] }) == Set(triggers))
        #expect(triggers.count == Set(triggers).count, "each trigger once")
    }

    /// The checksums the migrator accepts as earlier texts are those of the fixture's files.
    @Test func theKnownEarlierTextsAreTheFixturesFiles() async throws {
        let db = try await TestDatabase.create(migrated: false)
        for (version, file) in try Self.fixtureFiles() {
            let checksum = try await db.scalar("SELECT encode(sha256(convert_to($1::text, 'UTF8')), 'hex')",
                                               [try String(contentsOf: file, encoding: .utf8)])
            if version == 1 {
                #expect(Migration.all.first?.sql == (try String(contentsOf: file, encoding: .utf8)), "0001 did not change")
            } else {
                #expect(Migration.earlierChecksums[version] == [checksum!], "\(file.lastPathComponent)")
            }
        }
        #expect(Migration.earlierChecksums.count == 11)
    }

    /// A database at the schema of the baton before sql/functions (0001–0012, functions inside
    /// the migrations), with sessions in every state, a running step of a worker that is gone, a
    /// step handed off by an HTTP handler, a retry waiting for its time, a watch and a schedule,
    /// migrates with no manual step to the schema a fresh database gets, and keeps working.
    @Test func aDatabaseOfTheSchemaBeforeFunctionFilesUpgradesAndKeepsWorking() async throws {
        let db = try await TestDatabase.create(migrated: false)
        try await migrateTheOldWay(db, through: 12)
        let old = DatabaseConnection(settings: db.directSettings, label: "old-worker", preparedStatements: false)
        // The old functions at work: claims and commits of a worker, on its own connection.
        func claim(_ kind: String) async throws -> (task: String, attempt: String) {
            let row = try #require(try await old.query("SELECT task_id, attempt FROM baton.claim_tasks('old-worker', 1, ARRAY[$1])", [kind]).first)
            return (try row.string("task_id"), try row.string("attempt"))
        }
        func finish(_ kind: String, ok: Bool = true, retryMs: Int? = nil) async throws {
            let (task, attempt) = try await claim(kind)
            try await old.query("""
                SELECT * FROM baton.finish_tasks('old-worker', ARRAY[$1::bigint], ARRAY[$2::int], ARRAY[$3::boolean],
                    ARRAY['{}'::jsonb], ARRAY[$4::text], ARRAY[$5::int], ARRAY[now()], ARRAY[now()], ARRAY[NULL::jsonb], ARRAY[true])
                """, [task, attempt, ok ? "t" : "f", ok ? nil : "boom", retryMs.map(String.init)])
        }
        func session(_ id: String, phases: Int = 1) async throws {
            try await db.query("SELECT baton.create_session($1::int, '{}', $2, $2)", [String(phases), id])
        }
        for id in ["pending", "executing", "integrating", "completed", "failed", "retrying", "cancelled", "orphaned", "deferred"] {
            try await session(id)
        }
        try await session("gate", phases: 2)
        try await finish("executing")
        for _ in 0..<2 { try await finish("integrating") }
        for _ in 0..<3 { try await finish("completed") }
        for _ in 0..<3 { try await finish("gate") }
        try await finish("failed", ok: false)
        try await finish("retrying", ok: false, retryMs: 300)
        try await db.query("SELECT baton.cancel('cancelled')")
        let deferred = try await claim("deferred")
        try await old.query("SELECT * FROM baton.defer_tasks('old-worker', ARRAY[$1::bigint], ARRAY[$2::int], 600000, ARRAY[true])",
                            [deferred.task, deferred.attempt])
        // A worker claims 'orphaned', then its connection goes away (its session lock with it).
        let gone = DatabaseConnection(settings: db.directSettings, label: "gone-worker", preparedStatements: false)
        #expect(try await gone.query("SELECT task_id FROM baton.claim_tasks('gone-worker', 1, ARRAY['orphaned'])").count == 1)
        await gone.close()
        await old.close()
        try await db.query("CREATE TABLE public.items (id int PRIMARY KEY, note text NOT NULL)")
        try await db.query("SELECT baton.watch('public.items', 'item')")
        try await db.query("INSERT INTO public.items VALUES (1, 'first')")
        try await db.query("SELECT baton.schedule('hourly', interval '1 hour', 'tick')")
        let statuses = try await db.query("SELECT id, status FROM baton.sessions WHERE key IS NULL ORDER BY id").rows
        #expect(statuses == [["cancelled", "CANCELLED"], ["completed", "COMPLETED"], ["deferred", "THINKING"],
                             ["executing", "EXECUTING"], ["failed", "FAILED"], ["gate", "AWAITING_PROCEED"],
                             ["integrating", "INTEGRATING"], ["orphaned", "THINKING"], ["pending", "PENDING"],
                             ["retrying", "THINKING"]])

        let connection = DatabaseConnection(settings: db.directSettings, label: "m", preparedStatements: false)
        let report = try await Migrator(logger: testLogger()).migrate(connection)
        await connection.close()
        #expect(report.alreadyApplied == Migration.all.filter { $0.version <= 12 }.map(\.name))
        #expect(report.applied == Migration.all.filter { $0.version > 12 }.map(\.name))
        #expect(report.functionsApplied == FunctionFile.all.map(\.name))
        #expect(try await Migrator().schemaState(db.pool) == .current)
        try await expectTheSchemaOfAFreshDatabase(db)

        #expect(try await db.query("SELECT session_id, status FROM baton.parked_sessions ORDER BY 1").rows
                == [["failed", "FAILED"], ["gate", "AWAITING_PROCEED"]])
        // The watch's generated trigger calls the new record_changes: the change folds into the
        // key's queued session.
        try await db.query("UPDATE public.items SET note = 'second' WHERE id = 1")
        let item = try #require(try await db.scalar("SELECT id FROM baton.sessions WHERE kind = 'item' AND key = '1'"))
        #expect(try await db.scalar("SELECT origin #>> '{change,changes}' FROM baton.sessions WHERE id = $1", [item]) == "2")
        let tick = try await db.client.runSchedule("hourly").id
        _ = try await db.client.completeTask(Int64(deferred.task)!, resultJSON: "{\"handedOff\": true}")
        _ = try await db.client.proceed("gate")
        _ = try await db.client.retry("failed")
        try await withWorker(db) {
            for id in ["pending", "executing", "integrating", "gate", "failed", "retrying", "orphaned", "deferred", item, tick] {
                try await db.awaitStatus(id, .completed)
            }
        }
        #expect(try await db.scalar("SELECT outcome FROM baton.attempts WHERE session_id = 'orphaned' ORDER BY attempt LIMIT 1") == "RESCUED")
        #expect(try await db.scalar("SELECT origin #>> '{change,row,note}' FROM baton.sessions WHERE id = $1", [item]) == "second")
        #expect(try await db.status("cancelled") == "CANCELLED")
        #expect(try await db.status("completed") == "COMPLETED")
        #expect(try await db.scalar("SELECT count(*) FROM baton.parked_sessions") == "0")
        #expect(try await db.scalar("SELECT count(*) FROM baton.attempts WHERE kind IS NULL") == "0", "the new finish records kinds")
    }

    /// A database at an earlier schema (before deferred steps and liveness: 0001–0005, or before
    /// watches and schedules: 0001–0007, of that time), with sessions in every state, one of them
    /// held by a worker that is gone, migrates and keeps working: the migrations since drop the
    /// replaced overloads of the claim and the rescuer, and none lingers.
    @Test(arguments: [5, 7]) func aDatabaseOfAnEarlierSchemaUpgradesAndKeepsWorking(through version: Int) async throws {
        let db = try await TestDatabase.create(migrated: false)
        try await migrateTheOldWay(db, through: version)
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

        let connection = DatabaseConnection(settings: db.directSettings, label: "m", preparedStatements: false)
        let report = try await Migrator(logger: testLogger()).migrate(connection)
        await connection.close()
        #expect(report.applied == Migration.all.filter { $0.version > version }.map(\.name))
        #expect(report.functionsApplied == FunctionFile.all.map(\.name))
        try await expectTheSchemaOfAFreshDatabase(db)
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

    // MARK: - Helpers

    /// The fixture's files by version, in order.
    static func fixtureFiles() throws -> [(version: Int, url: URL)] {
        try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasSuffix(".sql") }.sorted()
            .map { (try #require(Int($0.prefix(4))), fixtures.appending(path: $0)) }
    }

    /// Builds the schema as the baton before sql/functions did: each file of the fixture up to
    /// `version` run whole, and recorded with its checksum, in one transaction.
    func migrateTheOldWay(_ db: TestDatabase, through version: Int) async throws {
        let connection = DatabaseConnection(settings: db.directSettings, label: "old-migrate", preparedStatements: false)
        try await connection.query("BEGIN")
        for (fileVersion, file) in try Self.fixtureFiles() where fileVersion <= version {
            let sql = try String(contentsOf: file, encoding: .utf8)
            try await connection.run(script: sql)
            try await connection.query("""
                INSERT INTO baton.schema_migrations (version, name, checksum)
                VALUES ($1::int, $2, encode(sha256(convert_to($3::text, 'UTF8')), 'hex'))
                """, [String(fileVersion), file.lastPathComponent, sql])
        }
        try await connection.query("COMMIT")
        await connection.close()
    }

    /// `pg_dump --schema-only` of schema baton, without the trigger functions that baton.watch
    /// generates for each watch (`baton.watch_<id>()`: data of the database, not Baton's schema).
    func dumpSchema(_ db: TestDatabase) throws -> String {
        let result = try shell("pg_dump", ["--schema-only", "--schema=baton", "-d", db.directURL])
        guard result.status == 0 else { throw TestFailure("pg_dump failed: \(result.output)") }
        var lines: [Substring] = []
        var generated = false
        for line in result.output.split(separator: "\n", omittingEmptySubsequences: false) {
            // pg_dump wraps its output in \restrict lines with a random key; the rest must match.
            if line.hasPrefix("\\restrict") || line.hasPrefix("\\unrestrict") { continue }
            // Every object starts with a "-- Name: …" comment, the line after a "--" line.
            if line.hasPrefix("-- Name: ") {
                let previous = generated
                generated = line.wholeMatch(of: /-- Name: watch_[0-9]+\(\); Type: FUNCTION; .*/) != nil
                if generated && !previous { lines.removeLast() }  // its "--"
                if !generated && previous { lines.append("--") }  // this one's, skipped with the generated one
            }
            if !generated { lines.append(line) }
        }
        return lines.joined(separator: "\n")
    }

    /// The upgraded database's schema is a fresh one's: same tables, functions (no old overload
    /// left), triggers and comments.
    func expectTheSchemaOfAFreshDatabase(_ db: TestDatabase) async throws {
        let fresh = try await TestDatabase.create()
        let expected = try dumpSchema(fresh)
        let upgraded = try dumpSchema(db)
        #expect(expected.contains("CREATE FUNCTION baton.claim_tasks("))
        if upgraded != expected {
            let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let b = upgraded.split(separator: "\n", omittingEmptySubsequences: false)
            let first = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            Issue.record("the upgraded schema differs from a fresh one at line \(first + 1): fresh \(a.dropFirst(first).prefix(3)) upgraded \(b.dropFirst(first).prefix(3))")
        }
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
