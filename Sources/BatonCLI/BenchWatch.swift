import Baton
import Foundation

/// `baton bench --watch-rows N --watch-changes M`: what `baton.watch` costs an application's
/// UPDATE, and how soon a committed change's step starts.
struct WatchBench {
    static let kind = "baton-bench-watch"
    let direct: ConnectionSettings
    let pool: ConnectionPool
    let rows: Int
    let changes: Int
    let rounds: Int

    /// Microseconds per updated row, unwatched and watched, for one way of updating.
    struct Cost: Encodable {
        var plainMicrosPerRow: Double
        var watchedMicrosPerRow: Double
        var extraMicrosPerRow: Double
    }

    struct Report: Encodable {
        var rows: Int
        var rounds: Int
        /// One UPDATE of every row; the watched one creates a session per key.
        var oneStatementCreating: Cost
        /// The same again while those sessions are queued: every change folds into one.
        var oneStatementFolding: Cost
        /// One UPDATE per row, each its own transaction (a commit each).
        var rowByRowCreating: Cost
        var rowByRowFolding: Cost
        /// One UPDATE per row inside a single transaction (the trigger's cost without commits).
        var rowByRowOneTransaction: Cost
        var changes: Int
        /// Commit of the UPDATE → the THINK handler started, on an idle worker.
        var changeToStartMs: Percentiles
    }

    func run(worker: (@Sendable () async throws -> [Double]) async throws -> [Double]) async throws -> Report {
        try await pool.query("DROP TABLE IF EXISTS baton_bench_plain, baton_bench_watched")
        for table in ["baton_bench_plain", "baton_bench_watched"] {
            try await pool.query("CREATE TABLE \(table) (id int PRIMARY KEY, n int NOT NULL, body text NOT NULL)")
        }
        try await pool.query("SELECT baton.watch('baton_bench_watched', $1)", [Self.kind])
        let connection = DatabaseConnection(settings: direct, label: "bench-app", preparedStatements: true)
        defer { Task { await connection.close() } }

        func reset() async throws {
            try await pool.query("DELETE FROM baton.sessions WHERE kind = $1", [Self.kind])
            // The refill itself must make no sessions: its triggers are off meanwhile.
            try await pool.withConnection { connection in
                try await connection.query("BEGIN")
                try await connection.query("ALTER TABLE baton_bench_watched DISABLE TRIGGER USER")
                for table in ["baton_bench_plain", "baton_bench_watched"] {
                    try await connection.query("TRUNCATE \(table)")
                    try await connection.query("INSERT INTO \(table) SELECT g, 0, repeat('x', 200) FROM generate_series(1, $1::int) g", [String(rows)])
                }
                try await connection.query("ALTER TABLE baton_bench_watched ENABLE TRIGGER USER")
                try await connection.query("COMMIT")
            }
            try await pool.query("VACUUM (ANALYZE) baton_bench_plain, baton_bench_watched, baton.sessions, baton.tasks")
            try await pool.query("CHECKPOINT")
        }
        /// Seconds for `body` on `table`.
        func timed(_ body: () async throws -> Void) async throws -> Double {
            let start = ContinuousClock.now
            try await body()
            let elapsed = ContinuousClock.now - start
            return elapsed.inSeconds
        }
        func oneStatement(_ table: String) async throws -> Double {
            try await timed { try await connection.query("UPDATE \(table) SET n = n + 1") }
        }
        func rowByRow(_ table: String, inOneTransaction: Bool = false) async throws -> Double {
            let update = Statement("bench_update_\(table)", "UPDATE \(table) SET n = n + 1 WHERE id = $1")
            return try await timed {
                if inOneTransaction { try await connection.query("BEGIN") }
                for id in 1...rows { try await connection.execute(update, [String(id)]) }
                if inOneTransaction { try await connection.query("COMMIT") }
            }
        }
        var samples: [String: [Double]] = [:]
        func record(_ name: String, _ seconds: Double) { samples[name, default: []].append(seconds * 1e6 / Double(rows)) }
        for round in 0..<rounds {
            // Alternate which table goes first, so neither always meets a warmer cache.
            let order = round % 2 == 0 ? ["plain", "watched"] : ["watched", "plain"]
            try await reset()
            for which in order {
                let table = "baton_bench_\(which)"
                record("one-\(which)-create", try await oneStatement(table))
                record("one-\(which)-fold", try await oneStatement(table))
            }
            try await reset()
            for which in order {
                let table = "baton_bench_\(which)"
                record("row-\(which)-create", try await rowByRow(table))
                record("row-\(which)-fold", try await rowByRow(table))
            }
            try await reset()
            for which in order {
                record("txn-\(which)", try await rowByRow("baton_bench_\(which)", inOneTransaction: true))
            }
        }
        func cost(_ name: String) -> Cost {
            let plain = Percentiles(samples["\(name.replacingOccurrences(of: "#", with: "plain"))"] ?? [0]).p50
            let watched = Percentiles(samples["\(name.replacingOccurrences(of: "#", with: "watched"))"] ?? [0]).p50
            return Cost(plainMicrosPerRow: plain, watchedMicrosPerRow: watched, extraMicrosPerRow: watched - plain)
        }

        // Latency: one change at a time on an idle worker, each to its own key.
        try await reset()
        let delays = try await worker { try await measureDelays(connection) }
        try await pool.query("DELETE FROM baton.sessions WHERE kind = $1", [Self.kind])
        try await pool.query("SELECT baton.unwatch('baton_bench_watched', $1)", [Self.kind])
        try await pool.query("DROP TABLE baton_bench_plain, baton_bench_watched")
        return Report(
            rows: rows, rounds: rounds,
            oneStatementCreating: cost("one-#-create"), oneStatementFolding: cost("one-#-fold"),
            rowByRowCreating: cost("row-#-create"), rowByRowFolding: cost("row-#-fold"),
            rowByRowOneTransaction: cost("txn-#"), changes: changes, changeToStartMs: Percentiles(delays))
    }

    /// Each change: the client's clock when the UPDATE's commit returned, to the THINK attempt's
    /// start (the worker's clock; same machine).
    func measureDelays(_ connection: DatabaseConnection) async throws -> [Double] {
        let listener = DatabaseConnection(settings: direct, label: "bench-listener", preparedStatements: false)
        try await listener.listen([NotificationListener.sessionChannel])
        let wake = WakeSignal()
        let update = Statement("bench_change", "UPDATE baton_bench_watched SET n = n + 1 WHERE id = $1")
        let done = Statement("bench_done", """
            SELECT extract(epoch FROM a.started_at) AS started FROM baton.sessions s
            JOIN baton.tasks t ON t.session_id = s.id AND t.phase = 1 AND t.step = 'THINK'
            JOIN baton.attempts a ON a.task_id = t.id
            WHERE s.kind = $1 AND s.key = $2 AND s.status = 'COMPLETED'
            """)
        try await Task.sleep(for: .milliseconds(300))  // let the worker's listener settle (as the latency bench does)
        var delays: [Double] = []
        for i in 1...max(1, changes) {
            let key = String((i - 1) % rows + 1)  // a key of its own for each change (changes <= rows)
            _ = try await connection.execute(update, [key])
            let committed = Date().timeIntervalSince1970
            var started: Double?
            while started == nil {
                started = try await connection.execute(done, [Self.kind, key]).first?["started"].flatMap(Double.init)
                if started == nil {
                    guard !(try await listener.waitForNotifications(timeoutMs: 10_000, wake: wake)).isEmpty else {
                        throw CLIError.usage("no notification within 10 s: is the worker running?")
                    }
                }
            }
            delays.append(((started ?? committed) - committed) * 1000)
        }
        await listener.close()
        return delays
    }
}
