import Baton
import Foundation
import Testing

/// The two recipes under examples/, run end to end as their READMEs describe: real `baton worker`
/// processes, their Python handlers, a real sqlite-vec index, real SQLite files, a real
/// PostgreSQL (which the second one stops once).
@Suite(.serialized) struct RecipeTests {
    static var examples: String { TestEnvironment.repository + "/examples" }

    /// Runs the examples' Python; returns its stdout (stderr goes to the failure).
    static func python(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let process = try BatonProcess(program: try TestEnvironment.python, arguments, environment: environment)
        let status = await process.waitForExit()
        guard status == 0 else { throw TestFailure("python \(arguments.joined(separator: " ")) exited \(status): \(process.output)") }
        return process.output
    }

    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "baton-recipe-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func applySchema(_ db: TestDatabase, _ file: String) async throws {
        let connection = DatabaseConnection(settings: db.directSettings, label: "schema", preparedStatements: false)
        try await connection.run(script: try String(contentsOfFile: file, encoding: .utf8))
        await connection.close()
    }

    /// Episodes edited quickly, one deleted, the index locked for a while: the index ends with
    /// exactly the newest version of every live episode and nothing of the deleted one, every
    /// row is `synced`, and a KNN query finds an episode by its words.
    @Test func episodeSync() async throws {
        let db = try await TestDatabase.create()
        try await Self.applySchema(db, Self.examples + "/episode-sync/schema.sql")
        let dir = try Self.scratch()
        let python = try TestEnvironment.python
        let handlerEnvironment = ["EPISODES_DATABASE_URL": db.directURL, "EPISODE_INDEX": dir + "/index.db"]
        let worker = try BatonProcess(["worker"], environment: db.environment.merging(handlerEnvironment) { $1 }.merging([
            "BATON_HANDLER": "episode-sync=command:\(python) \(Self.examples)/episode-sync/handler.py",
            "WORKER_BATCH_SIZE": "8", "MAX_RETRIES": "10", "RETRY_DELAY": "100", "BATON_LOG_LEVEL": "warning",
        ]) { $1 })
        defer { worker.kill() }

        try await db.query("""
            INSERT INTO episodes (title, body)
            SELECT 'Episode ' || g, 'Chapter ' || g || '. The crew of ship ' || g || ' sails north. ' || repeat('Waves and wind. ', g)
            FROM generate_series(1, 12) g
            """)
        // Rapid edits: every episode five times over, in separate transactions.
        for round in 1...5 {
            for id in 1...12 {
                try await db.query("UPDATE episodes SET body = body || $2, version = version + 1 WHERE id = $1::int",
                                   [String(id), " Edit \(round) of \(id)."])
            }
        }
        // The index fails for a while (another writer holds its lock): attempts fail and are retried.
        let lock = try BatonProcess(program: python, [Self.examples + "/episode-sync/vector_index.py", "lock"],
                                    environment: handlerEnvironment)
        try await lock.awaitOutput("locked")
        for id in [3, 7] {
            try await db.query("UPDATE episodes SET title = title || ' (revised)', version = version + 1 WHERE id = $1::int", [String(id)])
        }
        try await db.query("DELETE FROM episodes WHERE id = 5")
        try await db.awaitCondition("three attempts to fail on the locked index", timeout: 120) {
            let failed = try await db.scalar("SELECT count(*) FROM baton.attempts WHERE outcome = 'FAILED' AND error LIKE '%database is locked%'")
            return (failed.flatMap(Int.init) ?? 0) >= 3
        }
        #expect(try await db.scalar("SELECT count(*) FROM episodes WHERE sync_status = 'failed'").flatMap(Int.init) ?? 0 > 0,
                "rows say they failed meanwhile")
        lock.kill()  // SIGKILL: the test runner's blocked signals are inherited; the file lock dies with it
        _ = await lock.waitForExit()

        try await db.awaitCondition("every episode to be synced", timeout: 180) {
            let open = try await db.scalar("""
                SELECT count(*) FROM baton.sessions WHERE kind = 'episode-sync' AND status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')
                """)
            let unsynced = try await db.scalar("SELECT count(*) FROM episodes WHERE sync_status <> 'synced'")
            return open == "0" && unsynced == "0"
        }
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions WHERE status = 'FAILED'") == "0")

        let dump = try await Self.python([Self.examples + "/episode-sync/vector_index.py", "dump"], environment: handlerEnvironment)
        let index = try #require(try JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: [String: Int]], "\(dump)")
        let rows = try await db.query("SELECT id, version, synced_at IS NOT NULL AS synced, sync_error FROM episodes ORDER BY id").records
        #expect(rows.count == 11)
        #expect(index["5"] == nil, "nothing of the deleted episode: \(dump)")
        #expect(index["_faults"] == nil, "\(dump)")
        #expect(Set(index.keys) == Set(rows.compactMap { $0["id"] }), "\(dump)")
        for row in rows {
            let id = try #require(row["id"])
            #expect(index[id]?["version"] == Int(row["version"] ?? ""), "episode \(id): index \(index[id] ?? [:]), row version \(row["version"] ?? "?")")
            #expect(index[id]?["versions"] == 1, "only one version of episode \(id) is indexed")
            #expect(row["synced"] == "t" && row["sync_error"] == nil, "episode \(id)")
        }
        // The sqlite-vec KNN query: the first chunk of episode 7's newest version (its revised
        // title leads it) finds that very chunk, at distance 0.
        let seven = try #require(try await db.query("SELECT title, body, version FROM episodes WHERE id = 7").first)
        let query = try await Self.python(["-c", """
            import sys
            sys.path.insert(0, sys.argv[1])
            from embedding import chunks
            print(chunks(sys.argv[2], sys.argv[3])[0])
            """, Self.examples + "/episode-sync", seven["title"] ?? "", seven["body"] ?? ""]).trimmingCharacters(in: .newlines)
        #expect(query.contains("(revised)"))
        let hits = try await Self.python([Self.examples + "/episode-sync/vector_index.py", "search", query, "--k", "3"],
                                         environment: handlerEnvironment)
        let nearest = try #require((try JSONSerialization.jsonObject(with: Data(hits.utf8)) as? [[String: Any]])?.first, "\(hits)")
        #expect(nearest["episode"] as? Int == 7 && (nearest["version"] as? Int).map(String.init) == seven["version"], "\(hits)")
        #expect((nearest["distance"] as? Double ?? 1) < 0.001, "\(hits)")
        // Edits were coalesced: far fewer runs than changes.
        let runs = try #require(try await db.scalar("SELECT count(*) FROM baton.sessions WHERE kind = 'episode-sync'").flatMap(Int.init))
        #expect(runs < 12 + 60 + 2 + 1, "\(runs) runs for 75 changes")
    }

    /// Two hosts record rows into their own SQLite files while their workers move them into one
    /// PostgreSQL on schedules. A worker is killed in the middle of a batch and PostgreSQL is
    /// stopped once while the producers keep writing. At the end every local row is in
    /// PostgreSQL exactly once, with its source_host, and the sync log tells what happened.
    @Test func sqliteSyncAcrossTwoHosts() async throws {
        let db = try await TestDatabase.create(faultCluster: true)
        try await Self.applySchema(db, Self.examples + "/sqlite-sync/schema.sql")
        // Faster than the recipe's 5 s, to keep the test short.
        for host in ["host-a", "host-b"] {
            try await db.query("SELECT baton.schedule($1, '1 second', $1)", ["sqlite-sync.\(host)"])
        }
        let dir = try Self.scratch()
        let python = try TestEnvironment.python
        let sync = Self.examples + "/sqlite-sync/sync.py"
        @Sendable func hostEnvironment(_ host: String) -> [String: String] {
            ["SYNC_HOST": host, "SYNC_DB": "\(dir)/\(host).db", "SYNC_DATABASE_URL": db.directURL,
             "SYNC_BATCH_SIZE": "40", "SYNC_PAUSE_MS": "15"]
        }
        func startWorker(_ host: String) throws -> BatonProcess {
            try BatonProcess(["worker"], environment: db.environment.merging(hostEnvironment(host)) { $1 }.merging([
                "BATON_KINDS": "sqlite-sync.\(host)", "BATON_HANDLER": "command:\(python) \(sync)",
                "MAX_RETRIES": "5", "RETRY_DELAY": "300", "BATON_RESCUE_AFTER": "1500", "WORKER_HEARTBEAT_INTERVAL": "300",
                "BATON_RESCUE_INTERVAL": "300", "BATON_LOG_LEVEL": "warning",
            ]) { $1 })
        }
        @Sendable func counts(_ host: String) async throws -> [String: [String: Int]] {
            let text = try await Self.python([sync, "count"], environment: hostEnvironment(host))
            return try JSONDecoder().decode([String: [String: Int]].self, from: Data(text.utf8))
        }
        @Sendable func recorded(_ host: String) async throws -> Int { try await counts(host).values.map { $0["recorded"] ?? 0 }.reduce(0, +) }
        /// A host's sync step moving rows right now.
        @Sendable func executing(_ host: String) async throws -> Bool {
            try await db.scalar("""
                SELECT count(*) FROM baton.tasks WHERE kind = $1 AND step = 'EXECUTE' AND status = 'RUNNING'
                """, ["sqlite-sync.\(host)"]) == "1"
        }

        let producers = try ["host-a", "host-b"].map { host in
            try BatonProcess(program: python, [Self.examples + "/sqlite-sync/producer.py", "--db", "\(dir)/\(host).db",
                                               "--count", "1600", "--interval-ms", "4"], environment: hostEnvironment(host))
        }
        var workerA = try startWorker("host-a")
        let workerB = try startWorker("host-b")
        defer {
            workerA.kill()
            workerB.kill()
            producers.forEach { $0.kill() }
        }

        // Kill host-a's worker in the middle of a batch; start it again.
        try await db.awaitCondition("host-a to be moving rows", timeout: 60) {
            let moved = try await db.scalar("SELECT count(*) FROM activity WHERE source_host = 'host-a'").flatMap(Int.init) ?? 0
            return try await executing("host-a") && moved > 0
        }
        workerA.kill()
        _ = await workerA.waitForExit()
        workerA = try startWorker("host-a")

        // Stop PostgreSQL while a sync runs; the producers write on. Start it again once each has
        // written 300 more rows.
        try await db.awaitCondition("a sync to be moving rows before the outage", timeout: 60) {
            let a = try await executing("host-a")
            let b = try await executing("host-b")
            return a || b
        }
        let before = (try await recorded("host-a"), try await recorded("host-b"))
        let stop = try BatonProcess(program: TestEnvironment.faultControl, ["stop"])
        #expect(await stop.waitForExit() == 0, "\(stop.output)")
        while true {
            let (a, b) = (try await recorded("host-a"), try await recorded("host-b"))
            if a >= before.0 + 300 && b >= before.1 + 300 { break }
            guard producers.contains(where: \.isRunning) else { break }
            try await Task.sleep(for: .milliseconds(200))  // allowed: waiting on SQLite files, which have no notification
        }
        let start = try BatonProcess(program: TestEnvironment.faultControl, ["start"])
        #expect(await start.waitForExit() == 0, "\(start.output)")

        for producer in producers { #expect(await producer.waitForExit() == 0, "\(producer.output)") }
        for host in ["host-a", "host-b"] {
            let ran = try await runBaton(["schedule", "run-now", "sqlite-sync.\(host)"], environment: db.environment)
            #expect(ran.status == 0, "\(ran.output)")
        }
        try await db.awaitCondition("every local row to arrive", timeout: 180) {
            for host in ["host-a", "host-b"] where try await counts(host).values.contains(where: { ($0["waiting"] ?? 1) > 0 }) {
                return false
            }
            return true
        }

        for host in ["host-a", "host-b"] {
            let local = try await counts(host)
            for table in ["activity", "file_changes"] {
                let n = try #require(local[table]?["recorded"])
                let central = try await db.query("""
                    SELECT count(*) AS n, count(DISTINCT original_id) AS distinct_ids, min(original_id) AS low, max(original_id) AS high
                    FROM \(table) WHERE source_host = $1
                    """, [host]).first
                // Local ids run 1...n (AUTOINCREMENT, one writer): all there, once each.
                #expect(central?["n"] == String(n) && central?["distinct_ids"] == String(n), "\(host) \(table): \(local) vs \(central?["n"] ?? "?")")
                #expect(central?["low"] == "1" && central?["high"] == String(n), "\(host) \(table)")
            }
        }
        #expect(try await db.scalar("SELECT count(*) FROM activity") == String(800 * 2))

        // The log tells the story: the killed attempt, the outage, and the runs that ended well.
        var errors: [String] = []
        for host in ["host-a", "host-b"] {
            let text = try await Self.python([sync, "stats", "--json"], environment: hostEnvironment(host))
            let stats = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect((stats["byStatus"] as? [String: Int])?["ok"] ?? 0 >= 1, "\(host): \(text.prefix(800))")
            let log = try await Self.python(["-c", """
                import json, sqlite3, sys
                rows = sqlite3.connect(sys.argv[1]).execute("SELECT status, attempts, error FROM sync_logs").fetchall()
                print(json.dumps(rows))
                """, "\(dir)/\(host).db"])
            errors += ((try JSONSerialization.jsonObject(with: Data(log.utf8)) as? [[Any]]) ?? []).compactMap { $0[2] as? String }
        }
        #expect(errors.contains { $0.contains("cut off") }, "the killed attempt is in the log: \(errors)")
        #expect(errors.contains { $0.contains("OperationalError") || $0.contains("connection") }, "the outage is in the log: \(errors)")
        let text = try await Self.python([sync, "stats"], environment: hostEnvironment("host-a"))
        #expect(text.contains("0 waiting"), "\(text)")
    }
}
