import Baton
import Foundation
import Testing

/// `baton.watch`: changes of an application table become sessions, coalesced exactly per key.
/// Against a real PostgreSQL and a real worker.
@Suite struct WatchTests {
    /// A table with one watched row per key; its sessions are of kind `items`.
    static func itemsTable(_ db: TestDatabase, rows: Int = 1, columns: String = "NULL") async throws {
        try await db.query("CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL, note text)")
        if rows > 0 { try await db.query("INSERT INTO items SELECT g, 0 FROM generate_series(1, $1::int) g", [String(rows)]) }
        try await db.query("SELECT baton.watch('items', 'items', columns => \(columns))")
    }

    /// True when no session of `kind` is queued or running.
    static func settled(_ db: TestDatabase, kind: String = "items") async throws -> Bool {
        try await db.scalar("""
            SELECT count(*) FROM baton.sessions WHERE kind = $1 AND status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')
            """, [kind]) == "0"
    }

    @Test func aHundredRapidUpdatesOfOneRowMakeAtMostTwoRunsAndTheLastSeesTheNewest() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db)
        // The first run that starts is held until the burst is over: a run takes longer than it.
        let recorder = ChangeRecorder(holding: true)
        try await withWorker(db, handlers: HandlerRegistry(recorder)) {
            for n in 1...100 {
                try await db.query("UPDATE items SET n = $1 WHERE id = 1", [String(n)])
            }
            recorder.releaseAll()
            try await db.awaitCondition("every run of the row to finish") { try await Self.settled(db) }
        }
        let runs = recorder.runs
        #expect((1...2).contains(runs.count), "\(runs.count) runs")
        #expect(runs.map(\.changes).reduce(0, +) == 100, "every update was folded into a run: \(runs.map(\.changes))")
        #expect(runs.last?.rowValue("n") as? Int == 100, "the last run saw the newest version")
        #expect(runs.allSatisfy { $0.op == "update" })
        #expect(recorder.overlaps.isEmpty)
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions WHERE status = 'COMPLETED'") == String(runs.count))
    }

    @Test func updatesWhileARunIsInProgressQueueExactlyOneFollowUp() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db)
        let recorder = ChangeRecorder(holding: true)
        try await withWorker(db, handlers: HandlerRegistry(recorder)) {
            try await db.query("UPDATE items SET n = 1 WHERE id = 1")
            try await recorder.awaitRuns(1)  // run 1 read n = 1 and is held
            for n in 2...11 { try await db.query("UPDATE items SET n = $1 WHERE id = 1", [String(n)]) }
            let waiting = try await db.query("""
                SELECT s.status, s.origin #>> '{change,changes}' AS changes, t.status AS task
                FROM baton.sessions s JOIN baton.tasks t ON t.session_id = s.id
                WHERE s.kind = 'items' AND s.status = 'PENDING'
                """)
            #expect(waiting.count == 1, "exactly one follow-up is queued")
            #expect(waiting.first?["changes"] == "10" && waiting.first?["task"] == "PENDING", "the ten updates folded into it")
            #expect(recorder.runs.count == 1, "the follow-up waits while the first run runs")
            recorder.releaseAll()
            try await db.awaitCondition("both runs to finish") { try await Self.settled(db) }
        }
        let runs = recorder.runs
        #expect(runs.count == 2)
        #expect(runs[0].rowValue("n") as? Int == 1 && runs[0].changes == 1)
        #expect(runs[1].rowValue("n") as? Int == 11 && runs[1].changes == 10, "the follow-up started after the first ended and saw the newest row")
        #expect(recorder.overlaps.isEmpty)
    }

    @Test func aRolledBackChangeCreatesNothingAndACommittedOneIsThereAtCommit() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db)
        let connection = DatabaseConnection(settings: db.directSettings, label: "app", preparedStatements: false)
        defer { Task { await connection.close() } }
        try await connection.query("BEGIN")
        try await connection.query("UPDATE items SET n = 5 WHERE id = 1")
        #expect(try await connection.query("SELECT count(*) AS n FROM baton.sessions").first?["n"] == "1",
                "the session is made in the changing transaction")
        try await connection.query("ROLLBACK")
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == "0")
        #expect(try await db.scalar("SELECT count(*) FROM baton.tasks") == "0")

        try await connection.query("BEGIN")
        try await connection.query("UPDATE items SET n = 6 WHERE id = 1")
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == "0", "not visible before the commit")
        try await connection.query("COMMIT")
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions WHERE key = '1' AND status = 'PENDING'") == "1")
    }

    @Test func differentKeysRunAtTheSameTime() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db, rows: 4)
        let recorder = ChangeRecorder(holding: true)
        try await withWorker(db, handlers: HandlerRegistry(recorder), configuration: testConfiguration(batchSize: 4)) {
            try await db.query("UPDATE items SET n = n + 1")
            // All four are held at once: they run side by side.
            try await recorder.awaitRuns(4)
            #expect(Set(recorder.runs.map(\.key)) == ["1", "2", "3", "4"])
            recorder.releaseAll()
            try await db.awaitCondition("every run to finish") { try await Self.settled(db) }
        }
    }

    @Test func aDeleteMakesASessionWithTheOldRow() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db, rows: 0)
        let recorder = ChangeRecorder()
        try await withWorker(db, handlers: HandlerRegistry(recorder)) {
            try await db.query("INSERT INTO items VALUES (7, 70, 'seventy')")
            try await db.awaitCondition("the insert's run") { try await Self.settled(db) && recorder.runs.count == 1 }
            try await db.query("DELETE FROM items WHERE id = 7")
            try await db.awaitCondition("the delete's run") { try await Self.settled(db) && recorder.runs.count == 2 }
        }
        let runs = recorder.runs
        #expect(runs.map(\.op) == ["insert", "delete"])
        #expect(runs[1].key == "7" && runs[1].rowValue("n") as? Int == 70 && runs[1].rowValue("note") as? String == "seventy",
                "the delete's run got the row as it was")
    }

    @Test func aHandlerWritingBackAnUnwatchedColumnDoesNotTriggerItself() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db, rows: 1, columns: "ARRAY['n']")
        let recorder = ChangeRecorder { step, run in
            // INTEGRATE marks the row, as a sync marks it synced.
            if step.step == .integrate {
                try await db.query("UPDATE items SET note = 'synced ' || $2 WHERE id = $1::int", [run.key, String(run.changes)])
            }
        }
        try await withWorker(db, handlers: HandlerRegistry(recorder)) {
            try await db.query("UPDATE items SET n = 1 WHERE id = 1")
            try await db.awaitCondition("the run to finish and write back") {
                let note = try await db.scalar("SELECT note FROM items WHERE id = 1")
                return try await Self.settled(db) && note == "synced 1"
            }
            // An UPDATE that changes nothing watched creates nothing either.
            try await db.query("UPDATE items SET n = n, note = 'by hand' WHERE id = 1")
        }
        #expect(recorder.runs.count == 1)
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == "1", "the write-back made no session")
    }

    @Test func keysOfOtherTypesWorkAndACompositeKeyGetsAClearError() async throws {
        let db = try await TestDatabase.create()
        try await db.query("CREATE TABLE by_bigint (id bigint PRIMARY KEY, v text)")
        try await db.query("CREATE TABLE by_uuid (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), v text)")
        try await db.query("CREATE TABLE by_text (code text PRIMARY KEY, v text)")
        try await db.query("CREATE TABLE pairs (a int, b text, v text, PRIMARY KEY (a, b))")
        try await db.query("SELECT baton.watch('by_bigint', 'big')")
        try await db.query("SELECT baton.watch('by_uuid', 'uuid')")
        try await db.query("SELECT baton.watch('by_text', 'text', key_column => 'code')")

        await #expect {
            try await db.query("SELECT baton.watch('pairs', 'pairs', key_column => 'a')")
        } throws: { error in
            guard case .server(let state, let message, _, let hint)? = error as? DatabaseError else { return false }
            return state == "BT400" && message.contains("is not a key of its own") && hint?.contains("GENERATED ALWAYS AS") == true
        }
        await #expect(throws: DatabaseError.self) { try await db.query("SELECT baton.watch('pairs', 'pairs')") }
        // The way the hint shows: one generated key column.
        try await db.query("""
            ALTER TABLE pairs ADD COLUMN baton_key text GENERATED ALWAYS AS (a::text || '/' || b) STORED NOT NULL UNIQUE
            """)
        try await db.query("SELECT baton.watch('pairs', 'pairs', key_column => 'baton_key')")

        try await db.query("INSERT INTO by_bigint VALUES (9007199254740993, 'big')")
        let uuid = try #require(try await db.scalar("INSERT INTO by_uuid (v) VALUES ('u') RETURNING id::text"))
        try await db.query("INSERT INTO by_text VALUES ('Ä b/ç', 't')")
        try await db.query("INSERT INTO pairs (a, b, v) VALUES (1, 'x', 'p')")
        let recorder = ChangeRecorder()
        try await withWorker(db, handlers: HandlerRegistry(recorder)) {
            try await db.awaitCondition("four runs") { recorder.runs.count == 4 }
        }
        let byKey = Dictionary(uniqueKeysWithValues: recorder.runs.map { ($0.key, $0) })
        #expect(byKey["9007199254740993"]?.rowValue("v") as? String == "big")
        #expect(byKey[uuid]?.rowValue("v") as? String == "u")
        #expect(byKey["Ä b/ç"]?.rowValue("v") as? String == "t")
        #expect(byKey["1/x"]?.rowValue("v") as? String == "p")
    }

    @Test func watchRefusesWhatItCannotWatch() async throws {
        let db = try await TestDatabase.create()
        try await db.query("CREATE TABLE loose (id int UNIQUE, v text)")
        try await db.query("CREATE VIEW a_view AS SELECT 1 AS id")
        let cases: [(String, String)] = [
            ("SELECT baton.watch('loose', 'k')", "may be NULL"),
            ("SELECT baton.watch('loose', 'k', key_column => 'nope')", "has no column 'nope'"),
            ("SELECT baton.watch('a_view', 'k')", "is not a table"),
            ("SELECT baton.watch('baton.sessions', 'k')", "Baton's own tables"),
            ("SELECT baton.watch('loose', 'bad kind!')", "kind must be"),
            ("SELECT baton.watch('loose', 'k', phases => 0)", "phases must be"),
            ("SELECT baton.unwatch('loose', 'k')", "no watch of kind 'k' on loose"),
        ]
        for (index, (sql, expected)) in cases.enumerated() {
            if index == 1 { try await db.query("ALTER TABLE loose ALTER COLUMN id SET NOT NULL") }
            await #expect("\(sql)") {
                try await db.query(sql)
            } throws: { error in
                guard case .server(let state, let message, _, _)? = error as? DatabaseError else { return false }
                return ["BT400", "BT404"].contains(state) && message.contains(expected)
            }
        }
        try await db.query("SELECT baton.watch('loose', 'k', columns => ARRAY['v'])")
        await #expect { try await db.query("SELECT baton.watch('loose', 'k', columns => ARRAY['v', 'missing'])") } throws: { error in
            (error as? DatabaseError)?.description.contains("has no column 'missing'") == true
        }
    }

    @Test func unwatchStopsNewSessionsAndLetsStartedOnesFinish() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db)
        try await db.query("UPDATE items SET n = 1")
        let removed = try await runBaton(["watch", "remove", "public.items", "--kind", "items"], environment: db.environment)
        #expect(removed.status == 0, "\(removed.output)")
        try await db.query("UPDATE items SET n = 2")
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == "1", "no session after unwatch")
        #expect(try await db.scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'items'::regclass") == "0")
        let recorder = ChangeRecorder()
        try await withWorker(db, handlers: HandlerRegistry(recorder)) {
            try await db.awaitCondition("the earlier session to finish") { try await Self.settled(db) }
        }
        #expect(recorder.runs.first?.rowValue("n") as? Int == 2, "it still reads the row when it starts")
    }

    /// A keyed session that FAILED may not be retried once a newer change of its row exists.
    @Test func aSupersededSessionCannotBeRetried() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db)
        try await db.query("UPDATE items SET n = 1")
        let failing = ClosureHandler { _ in throw StepFailure("index unavailable", permanent: true) }
        try await withWorker(db, handlers: HandlerRegistry(failing)) {
            try await db.awaitCondition("the run to fail") { try await Self.settled(db) }
        }
        let failed = try #require(try await db.scalar("SELECT id FROM baton.sessions WHERE status = 'FAILED'"))
        try await db.query("UPDATE items SET n = 2")
        let newer = try #require(try await db.scalar("SELECT id FROM baton.sessions WHERE status = 'PENDING'"))
        let refused = try await runBaton(["retry", failed], environment: db.environment)
        #expect(refused.status == 4, "\(refused.output)")
        #expect(refused.output.contains("superseded by session '\(newer)'"), "\(refused.output)")
        // The newest session of a key can be retried.
        _ = try await db.client.cancel(newer)
        try await db.query("UPDATE items SET n = 3")
        let newest = try #require(try await db.scalar("SELECT id FROM baton.sessions WHERE status = 'PENDING'"))
        try await withWorker(db, handlers: HandlerRegistry(failing)) {
            try await db.awaitCondition("the newest run to fail") { try await Self.settled(db) }
        }
        _ = try await db.client.retry(newest)
    }

    /// One statement that changes 10,000 rows: 10,000 sessions, in one transaction; a second one
    /// folds into them.
    @Test func aBulkUpdateMakesOneSessionPerKey() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db, rows: 10_000)
        try await db.query("UPDATE items SET n = n + 1")
        try await db.query("UPDATE items SET n = n + 1 WHERE id % 2 = 0")
        let counts = try await db.query("""
            SELECT count(*) AS sessions, count(DISTINCT key) AS keys, sum((origin #>> '{change,changes}')::int) AS changes,
                   (SELECT count(*) FROM baton.tasks WHERE queued_key IS NOT NULL) AS queued
            FROM baton.sessions
            """).first
        #expect(counts?["sessions"] == "10000" && counts?["keys"] == "10000")
        #expect(counts?["changes"] == "15000" && counts?["queued"] == "10000")
    }

    /// The op a run acts on: SQL's baton.change_op and Swift's ChangeOp.atStart agree everywhere.
    @Test func theOpRuleIsTheSameInSQLAndSwift() async throws {
        let db = try await TestDatabase.create()
        for first in ChangeOp.allCases {
            for exists in [false, true] {
                let sql = try await db.scalar("SELECT baton.change_op($1, $2::boolean)", [first.rawValue, PGText.bool(exists)])
                #expect(sql == ChangeOp.atStart(firstChange: first, rowExists: exists).rawValue, "\(first) \(exists)")
            }
        }
    }

    /// The database follows the pure model (BatonCore's KeyedRuns) through random sequences of
    /// changes, starts (a claim) and finishes (a cancel), compared after every event.
    @Test func theDatabaseFollowsTheModel() async throws {
        let db = try await TestDatabase.create()
        try await db.query("CREATE TABLE m (id int PRIMARY KEY, v int NOT NULL)")
        let claimer = DatabaseConnection(settings: db.directSettings, label: "model", preparedStatements: false)
        defer { Task { await claimer.close() } }
        var random = SplitMix64(state: 20261202)
        var compared = 0
        for sequence in 0..<24 {
            let kind = "model-\(sequence)"
            try await db.query("SELECT baton.watch('m', $1)", [kind])
            let key = String(sequence)
            var model = KeyedRuns(rowExists: false)
            var running: String?
            for step in 0..<16 {
                let event: KeyedRuns.Event = switch random.next() % 5 {
                case 0: .change(.insert)
                case 1: .change(.update)
                case 2: .change(.delete)
                case 3: .start
                default: .finish
                }
                let before = model
                let effect = model.handle(event)
                let context = "sequence \(sequence) step \(step): \(event) → \(effect)"
                switch event {
                case .change(.insert) where effect != .impossible:
                    try await db.query("INSERT INTO m VALUES ($1::int, $2::int)", [key, String(step)])
                case .change(.update) where effect != .impossible:
                    try await db.query("UPDATE m SET v = $2::int WHERE id = $1::int", [key, String(step)])
                case .change(.delete) where effect != .impossible:
                    try await db.query("DELETE FROM m WHERE id = $1::int", [key])
                case .start:
                    let claimed = try await claimer.query(
                        "SELECT session_id, origin::text AS origin FROM baton.claim_tasks('model', 5, ARRAY[$1])", [kind])
                    if case .started(_, let op) = effect {
                        let row = try #require(claimed.first, "\(context): the database started nothing")
                        let origin = try #require(row["origin"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any])
                        let change = origin["change"] as? [String: Any]
                        #expect(change?["op"] as? String == op.rawValue, "\(context)")
                        #expect(change?["changes"] as? Int == before.queued?.changes, "\(context)")
                        let current = try await db.scalar("SELECT v FROM m WHERE id = $1::int", [key])
                        let seen = (change?["row"] as? [String: Any])?["v"] as? Int
                        if op != .delete { #expect(seen.map(String.init) == current, "\(context): the run read the newest row") }
                        running = row["session_id"]
                    } else {
                        #expect(claimed.isEmpty, "\(context): the database started \(claimed.rows)")
                    }
                case .finish:
                    if let id = running, case .finished = effect {
                        _ = try await db.client.cancel(id)
                        running = nil
                    }
                default:
                    break
                }
                let queued = try await db.query("""
                    SELECT (s.origin #>> '{change,changes}')::int AS changes FROM baton.sessions s
                    WHERE s.kind = $1 AND s.status = 'PENDING'
                    """, [kind])
                #expect(queued.count == (model.queued == nil ? 0 : 1), "\(context)")
                #expect(queued.first?["changes"] == model.queued.map { String($0.changes) }, "\(context)")
                let live = try await db.scalar("""
                    SELECT count(*) FROM baton.sessions WHERE kind = $1 AND status IN ('THINKING', 'EXECUTING', 'INTEGRATING')
                    """, [kind])
                #expect(live == (model.running == nil ? "0" : "1"), "\(context)")
                compared += 1
            }
        }
        #expect(compared == 24 * 16)
    }

    /// Writers on several connections change a few rows as fast as they can while a worker runs
    /// their sessions: no two runs of a key overlap, and every key's last run saw its final row.
    @Test func concurrentWritersAndAWorkerKeepEveryKeyExact() async throws {
        let db = try await TestDatabase.create()
        try await Self.itemsTable(db, rows: 5)
        let recorder = ChangeRecorder()
        try await withWorker(db, handlers: HandlerRegistry(recorder), configuration: testConfiguration(batchSize: 8)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        let connection = DatabaseConnection(settings: db.directSettings, label: "writer-\(writer)", preparedStatements: false)
                        for i in 0..<60 {
                            try await connection.query("UPDATE items SET n = n + 1 WHERE id = $1::int", [String((writer + i) % 5 + 1)])
                        }
                        await connection.close()
                    }
                }
                try await group.waitForAll()
            }
            try await db.awaitCondition("every key to settle") { try await Self.settled(db) }
        }
        #expect(recorder.overlaps.isEmpty, "\(recorder.overlaps)")
        #expect(recorder.runs.map(\.changes).reduce(0, +) == 240, "every change reached a run")
        for key in 1...5 {
            let last = recorder.runs.last { $0.key == String(key) }
            let final = try await db.scalar("SELECT n FROM items WHERE id = $1::int", [String(key)])
            #expect((last?.rowValue("n") as? Int).map(String.init) == final, "key \(key)")
        }
    }
}

/// Watched keys stay exact while workers die: real `baton worker` processes run the sessions
/// of rows that writers keep changing, one of them is SIGKILLed mid-run and started again (its
/// steps are rescued). From the handler's own log: no two runs of a key overlap, every change was
/// counted in exactly one session, and every key's last run saw the key's final row.
@Suite struct WatchChaosTests {
    @Test func keysStayExactThroughWorkerKills() async throws {
        let db = try await TestDatabase.create()
        try await WatchTests.itemsTable(db, rows: 10)
        let record = NSTemporaryDirectory() + "baton-watch-chaos-\(UUID().uuidString).log"
        func worker() throws -> BatonProcess {
            try BatonProcess(["worker"], environment: db.environment.merging([
                "BATON_HANDLER": testHandlerSpec, "BATON_TEST_MODE": "record-change", "BATON_TEST_RECORD": record,
                "BATON_TEST_HOLD_MS": "200", "WORKER_BATCH_SIZE": "4", "MAX_RETRIES": "10", "RETRY_DELAY": "50",
                "BATON_RESCUE_AFTER": "1000", "WORKER_HEARTBEAT_INTERVAL": "250", "BATON_RESCUE_INTERVAL": "250",
                "BATON_LOG_LEVEL": "warning",
            ]) { $1 })
        }
        var workers = [try worker(), try worker()]
        defer { workers.forEach { $0.kill() } }

        let changes = 3 * 120
        var stranded = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<3 {
                group.addTask {
                    let connection = DatabaseConnection(settings: db.directSettings, label: "writer-\(writer)", preparedStatements: false)
                    for i in 0..<120 {
                        try await connection.query("UPDATE items SET n = n + 1 WHERE id = $1::int", [String((writer * 7 + i) % 10 + 1)])
                    }
                    await connection.close()
                }
            }
            // Kill a worker while a step of its runs (each holds 200 ms), and start it again. On a
            // loaded machine the step may end between the look and the kill: then nothing was
            // left to rescue, and the next worker is killed the same way.
            for _ in 0..<5 where stranded == 0 {
                let victim = workers[0].pid
                try await db.awaitCondition("the first worker to be running a step") {
                    try await db.scalar("SELECT count(*) FROM baton.tasks WHERE status = 'RUNNING' AND worker_id LIKE '%:' || $1 || ':%'",
                                        [String(victim)]).flatMap(Int.init) ?? 0 > 0
                }
                workers[0].kill()
                _ = await workers[0].waitForExit()
                // The process is gone: what it still held RUNNING now waits for the rescuer.
                stranded = try await db.scalar("SELECT count(*) FROM baton.tasks WHERE status = 'RUNNING' AND worker_id LIKE '%:' || $1 || ':%'",
                                               [String(victim)]).flatMap(Int.init) ?? 0
                workers[0] = try worker()
            }
            try await group.waitForAll()
        }
        try await db.awaitCondition("every key to settle", timeout: 120) { try await WatchTests.settled(db) }

        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions WHERE status <> 'COMPLETED'") == "0")
        #expect(try await db.scalar("SELECT sum((origin #>> '{change,changes}')::int) FROM baton.sessions") == String(changes),
                "every change was folded into exactly one session")
        // The handler's log: "<session> <phase>.<step> <attempt> <start_ns> <end_ns> <pid> <key> <n>".
        struct Run { var start: UInt64; var end: UInt64; var n: String?; var key: String }
        var runs: [String: Run] = [:]  // by session, from its THINK start to its INTEGRATE end
        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        for line in lines {
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 8, let start = UInt64(f[3]), let end = UInt64(f[4]) else { continue }
            var run = runs[f[0]] ?? Run(start: start, end: end, n: nil, key: f[6])
            run.start = min(run.start, start)
            run.end = max(run.end, end)
            if f[1] == "1.THINK" { run.n = f[7] }
            runs[f[0]] = run
        }
        #expect(runs.count == Int(try await db.scalar("SELECT count(*) FROM baton.sessions") ?? ""), "every session ran")
        let rescued = try await db.scalar("SELECT count(*) FROM baton.attempts WHERE outcome = 'RESCUED'") ?? "0"
        for key in 1...10 {
            let ordered = runs.values.filter { $0.key == String(key) }.sorted { $0.start < $1.start }
            for (a, b) in zip(ordered, ordered.dropFirst()) {
                #expect(a.end < b.start, "key \(key): two runs overlapped")
            }
            let final = try await db.scalar("SELECT n FROM items WHERE id = $1::int", [String(key)])
            #expect(ordered.last?.n == final, "key \(key): the last run saw n = \(ordered.last?.n ?? "?"), the row has \(final ?? "?")")
        }
        #expect(stranded > 0, "a kill caught a worker in the middle of a step")
        #expect(Int(rescued) ?? 0 >= stranded, "the killed worker's steps were rescued and run again")
    }
}
