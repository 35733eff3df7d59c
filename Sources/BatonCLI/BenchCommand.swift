import ArgumentParser
import Baton
import Foundation
import Logging

/// `baton bench`: measures Baton on the database in DATABASE_URL with an in-process worker and
/// `builtin:echo`. It uses sessions of its own kind and deletes them afterwards.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure latency (create → COMPLETED, pickup) and throughput (steps/s) with builtin:echo.",
        discussion: "Run it against a scratch database: it migrates it and creates sessions of kind 'baton-bench'.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Sequential 1-phase sessions for the latency figures.") var latencySessions: Int = 20
    @Option(help: "1-phase sessions (3 steps each) created at once for the throughput figure; 0 skips it.") var throughputSessions: Int = 10_000
    @Option(name: .customLong("batch-size"), help: "Worker batch size for the throughput run.") var batchSize: Int = 256
    @Option(name: .customLong("watch-rows"), help: "Rows of the watched and the plain table for the UPDATE cost of baton.watch; 0 skips it.")
    var watchRows: Int = 0
    @Option(name: .customLong("watch-changes"), help: "Changes, one at a time, for the change → step start delay.") var watchChanges: Int = 300
    @Option(name: .customLong("watch-rounds"), help: "Rounds of the UPDATE cost measurement (medians are reported).") var watchRounds: Int = 3
    @Option(name: .customLong("stats-sessions"), help: "Finished sessions written as history before timing `baton stats`; 0 skips it (needs a superuser).")
    var statsSessions: Int = 0
    @Option(name: .customLong("stats-recent"), help: "Sessions finished in the last 15 minutes added for a second timing of `baton stats` (3 attempts each).")
    var statsRecent: Int = 33_334
    @Flag(name: .customLong("only-extras"), help: "Run only the watch and stats measurements, not latency and throughput.")
    var onlyExtras = false

    static let kind = "baton-bench"

    struct Report: Encodable {
        var latencySessions: Int
        var createToCompletedMs: Percentiles
        var createToPickupMs: Percentiles
        var throughputSessions: Int
        var throughputSteps: Int
        var throughputSeconds: Double
        var stepsPerSecond: Double
        var batchSize: Int
        var watch: WatchBench.Report?
        var stats: StatsBench.Report?
    }

    func run() async throws {
        try await reportingErrors {
            let direct = try database.directSettings()
            let migrator = DatabaseConnection(settings: direct, label: "bench", preparedStatements: false)
            _ = try await Migrator(logger: quietLogger()).migrate(migrator)
            await migrator.close()
            let pool = try database.makePool()
            try await pool.query("DELETE FROM baton.sessions WHERE kind = $1", [Self.kind])
            // Start every run from the same state: no dead rows from earlier runs, fresh statistics.
            try await pool.query("VACUUM (ANALYZE) baton.sessions, baton.tasks, baton.attempts")

            var report = Report(
                latencySessions: 0, createToCompletedMs: Percentiles([]), createToPickupMs: Percentiles([]),
                throughputSessions: 0, throughputSteps: 0, throughputSeconds: 0, stepsPerSecond: 0, batchSize: batchSize)
            if !onlyExtras {
                let (latency, pickup) = try await withBenchWorker(direct: direct, pool: pool, batchSize: 4) {
                    try await measureLatency(direct: direct, pool: pool)
                }
                report.latencySessions = latencySessions
                report.createToCompletedMs = Percentiles(latency)
                report.createToPickupMs = Percentiles(pickup)
                if throughputSessions > 0 {
                    let seconds = try await measureThroughput(direct: direct, pool: pool)
                    report.throughputSessions = throughputSessions
                    report.throughputSteps = throughputSessions * 3
                    report.throughputSeconds = seconds
                    report.stepsPerSecond = Double(report.throughputSteps) / seconds
                }
            }
            if watchRows > 0 {
                guard watchChanges <= watchRows else {
                    throw CLIError.usage("--watch-changes must not exceed --watch-rows: each change goes to a row of its own")
                }
                let bench = WatchBench(direct: direct, pool: pool, rows: watchRows, changes: watchChanges, rounds: max(1, watchRounds))
                report.watch = try await bench.run { body in
                    let worker = Worker(
                        configuration: WorkerConfiguration(kinds: [WatchBench.kind], batchSize: 4),
                        handlers: HandlerRegistry(EchoHandler()), direct: direct, pool: pool, logger: quietLogger())
                    return try await withThrowingTaskGroup(of: [Double]?.self) { group in
                        group.addTask { try await worker.run(); return nil }
                        defer { group.cancelAll() }
                        return try await body()
                    }
                }
            }
            if statsSessions > 0 {
                report.stats = try await StatsBench(pool: pool, sessions: statsSessions, recentSessions: statsRecent, samples: 20).run()
            }
            try await pool.query("DELETE FROM baton.sessions WHERE kind = $1", [Self.kind])
            await pool.close()
            if output.json { try printJSON(report); return }
            func f(_ v: Double) -> String { String(format: "%.2f", v) }
            if !onlyExtras {
                say("latency, \(latencySessions) sequential 1-phase sessions on an idle worker:")
                say("  create_session → COMPLETED seen by the client: median \(f(report.createToCompletedMs.p50)) ms, p95 \(f(report.createToCompletedMs.p95)) ms, min \(f(report.createToCompletedMs.min)) ms")
                say("  create_session returned → THINK handler started: median \(f(report.createToPickupMs.p50)) ms, p95 \(f(report.createToPickupMs.p95)) ms")
            }
            if report.throughputSessions > 0 {
                say("throughput, \(throughputSessions) sessions × 3 steps, batch size \(batchSize): \(report.throughputSteps) steps in \(f(report.throughputSeconds)) s = \(Int(report.stepsPerSecond)) steps/s")
            }
            if let watch = report.watch {
                say("baton.watch, UPDATE cost per row over \(watch.rows) rows (median of \(watch.rounds) rounds; plain → watched = extra µs):")
                for (name, cost) in [("one statement, creating a session per key", watch.oneStatementCreating),
                                     ("one statement, folding into queued sessions", watch.oneStatementFolding),
                                     ("row by row, a commit each, creating", watch.rowByRowCreating),
                                     ("row by row, a commit each, folding", watch.rowByRowFolding),
                                     ("row by row in one transaction", watch.rowByRowOneTransaction)] {
                    say("  \(name): \(f(cost.plainMicrosPerRow)) → \(f(cost.watchedMicrosPerRow)) = +\(f(cost.extraMicrosPerRow)) µs")
                }
                say("  committed change → THINK handler started, \(watch.changes) changes one at a time: p50 \(f(watch.changeToStartMs.p50)) ms, p99 \(f(watch.changeToStartMs.p99)) ms, max \(f(watch.changeToStartMs.max)) ms")
            }
            if let stats = report.stats {
                say("baton stats with \(stats.finishedSessions) finished sessions (\(stats.tasks) tasks, \(stats.attempts) attempts, \(stats.attemptsInLast15Minutes) in the last 15 minutes; finished counts \(stats.finishedEstimated ? "estimated" : "exact")): p50 \(f(stats.statsMs.p50)) ms, p99 \(f(stats.statsMs.p99)) ms, max \(f(stats.statsMs.max)) ms (history written in \(f(stats.loadSeconds)) s)")
                say("  and with \(stats.busyAttemptsInLast15Minutes) attempts in the last 15 minutes: p50 \(f(stats.busyStatsMs.p50)) ms, p99 \(f(stats.busyStatsMs.p99)) ms, max \(f(stats.busyStatsMs.max)) ms")
            }
        }
    }

    func quietLogger() -> Logger {
        var logger = Logger(label: "baton.bench")
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` while an in-process worker serves the bench kind.
    func withBenchWorker<T: Sendable>(direct: ConnectionSettings, pool: ConnectionPool, batchSize: Int,
                                      _ body: @Sendable () async throws -> T) async throws -> T {
        let worker = Worker(
            configuration: WorkerConfiguration(kinds: [Self.kind], batchSize: batchSize),
            handlers: HandlerRegistry(EchoHandler()), direct: direct, pool: pool, logger: quietLogger())
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await worker.run(); return nil }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Sequential sessions: client clock from before `create_session` to the notification after
    /// which the session reads COMPLETED; pickup from `create_session` returning to the THINK
    /// attempt's start (same machine, same clock).
    func measureLatency(direct: ConnectionSettings, pool: ConnectionPool) async throws -> ([Double], [Double]) {
        let listener = DatabaseConnection(settings: direct, label: "bench-listener", preparedStatements: false)
        try await listener.listen([NotificationListener.sessionChannel])
        let client = DatabaseConnection(settings: direct, label: "bench-client", preparedStatements: true)
        let create = Statement("bench_create", "SELECT id FROM baton.create_session(1, '{}', NULL, $1)")
        let status = Statement("bench_status", "SELECT status FROM baton.sessions WHERE id = $1")
        let wake = WakeSignal()
        // Let the worker's listener settle before the first sample.
        _ = try await client.execute(status, ["-"])
        try await Task.sleep(for: .milliseconds(300))
        var total: [Double] = [], pickup: [Double] = []
        for _ in 0..<max(1, latencySessions) {
            let started = Date()
            let id = try await client.execute(create, [Self.kind]).first?.string("id") ?? ""
            let created = Date()
            var done = false
            while !done {
                let notes = try await listener.waitForNotifications(timeoutMs: 10_000, wake: wake)
                guard !notes.isEmpty else { throw CLIError.usage("no notification within 10 s: is the worker running?") }
                if notes.contains(where: { $0.payload.split(separator: ",").contains(Substring(id)) }) {
                    done = try await client.execute(status, [id]).first?["status"] == "COMPLETED"
                }
            }
            total.append(Date().timeIntervalSince(started) * 1000)
            let startedAt = try await client.query("""
                SELECT extract(epoch FROM a.started_at) AS t FROM baton.attempts a JOIN baton.tasks k ON k.id = a.task_id
                WHERE k.session_id = $1 AND k.step = 'THINK'
                """, [id]).first?["t"].flatMap(Double.init) ?? 0
            pickup.append((startedAt - created.timeIntervalSince1970) * 1000)
        }
        await listener.close()
        await client.close()
        return (total, pickup)
    }

    /// Creates all sessions in one call, then times the worker from its first step to the last
    /// session COMPLETED (the database's own clock).
    func measureThroughput(direct: ConnectionSettings, pool: ConnectionPool) async throws -> Double {
        try await pool.query("""
            SELECT count(*) FROM baton.create_sessions(1, array_fill('{}'::jsonb, ARRAY[$1::int]), $2)
            """, [String(throughputSessions), Self.kind])
        try await pool.query("ANALYZE baton.tasks")
        let listener = DatabaseConnection(settings: direct, label: "bench-listener", preparedStatements: false)
        try await listener.listen([NotificationListener.sessionChannel])
        let wake = WakeSignal()
        let remaining = "SELECT count(*) AS n FROM baton.sessions WHERE kind = $1 AND status <> 'COMPLETED'"
        try await withBenchWorker(direct: direct, pool: pool, batchSize: batchSize) {
            while try await pool.query(remaining, [Self.kind]).first?.int("n") != 0 {
                _ = try await listener.waitForNotifications(timeoutMs: 1000, wake: wake)
            }
        }
        await listener.close()
        let span = try await pool.query("""
            SELECT extract(epoch FROM max(s.updated_at) - min(a.started_at)) AS seconds
            FROM baton.sessions s JOIN baton.attempts a ON a.session_id = s.id WHERE s.kind = $1
            """, [Self.kind])
        return span.first?["seconds"].flatMap(Double.init) ?? 0
    }
}

/// Order statistics of a bench's samples (milliseconds or microseconds, as the field says).
struct Percentiles: Encodable {
    var p50: Double
    var p95: Double
    var p99: Double
    var min: Double
    var max: Double

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))] }
        p50 = at(0.5)
        p95 = at(0.95)
        p99 = at(0.99)
        min = sorted.first ?? 0
        max = sorted.last ?? 0
    }
}
