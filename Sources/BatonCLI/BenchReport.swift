import Foundation

/// What `baton bench --json` prints: every figure of the sections that ran (the others are
/// absent). Times are wall-clock; milliseconds or seconds as each name says.
struct BenchReport: Encodable {
    /// "private" (a PostgreSQL the bench started and removed) or "given" (`--database-url`).
    var database: String
    /// The server settings that decide what the figures mean (fsync, synchronous_commit, ...).
    var postgres: [String: String]
    var batchSize: Int
    /// WORKER_CONNECTIONS of every worker process.
    var connections: Int
    var sessions: Int
    var sections: [String]
    /// Whether each measurement started from a settled database (CHECKPOINT, no autovacuum
    /// running, VACUUM ANALYZE; ANALYZE after the bulk create), and what could not be done.
    var settled: Bool
    var settleNotes: [String] = []

    var throughput: [ThroughputRun]?
    /// Worker CPU (user + system) per 1,000 steps, from the one-worker throughput run, start-up excluded.
    var cpuSecondsPer1000Steps: Double?
    /// VmRSS of an idle, listening worker (after five warm-up sessions) and of the one-worker
    /// throughput run's worker at its end.
    var rssIdleKiB: Int?
    var rssEndKiB: Int?
    var pickup: PickupReport?
    var chain: ChainReport?
    var lostWakeups: LostWakeups?
    var scale: ScaleReport?
    var soak: SoakReport?
    var steadiness: Steadiness?
    var watch: WatchBench.Report?
    var stats: StatsBench.Report?
    var prune: PruneBench.Report?
}

/// One throughput measurement: `sessions` one-phase sessions created in one call, then
/// `workers` worker processes started; steps/s from the first step's start to the last
/// session's COMPLETED (both from the database: the attempt's start, the session's update).
struct ThroughputRun: Encodable {
    /// When the workers started (UTC), to match a run with the server's log.
    var startedAt: String
    /// The machine's 1-minute load average as the workers started and as the last step
    /// finished (2 cores busy read 2.0): other work on the machine slows a run down.
    var loadAverage: [Double]
    var workers: Int
    var sessions: Int
    var steps: Int
    /// PENDING tasks of another kind queued behind the sessions (the scale case), else 0.
    var backlog: Int
    var createSeconds: Double
    var seconds: Double
    var stepsPerSecond: Double
    var workerProcesses: [WorkerFigures]
    /// Checkpoints and autovacuum/autoanalyze runs on Baton's tables while the workers ran:
    /// either makes a run slower, so a run that had one says so.
    var checkpointsDuring: Int
    var autovacuumsDuring: Int
}

/// One worker process of a run: the steps it ran (from the attempts' worker ids) and what it cost.
struct WorkerFigures: Encodable {
    var pid: Int32
    var steps: Int
    /// utime + stime when the last session completed, and when its first step started.
    var cpuSeconds: Double
    var startupCpuSeconds: Double
    var rssKiB: Int
}

/// Commit of `create_session` (the call returned) → the THINK handler started, on an idle,
/// listening worker, one session at a time with a pause between.
struct PickupReport: Encodable {
    var sessions: Int
    var pickupMs: Percentiles
    /// From before the call: an upper bound (the commit lies between the two).
    var fromCallStartMs: Percentiles
    var over1s: Int
}

/// One phase (THINK → EXECUTE → INTEGRATE, steps advancing by themselves) per session: create
/// → INTEGRATE started, and the three hops (create → THINK; each handler's return → the next
/// step's start, which includes the commit of the result and of the next task).
struct ChainReport: Encodable {
    var sessions: Int
    var totalMs: Percentiles
    var hopMs: Percentiles
    var hop1Ms: Percentiles
    var hop2Ms: Percentiles
    var hop3Ms: Percentiles
    var hopsOver1s: Int
}

/// Hops slower than 1 s (a missed wake-up waits for the next scan or poll).
struct LostWakeups: Encodable {
    var hops: Int
    var over1s: Int
}

struct ScaleReport: Encodable {
    var backlog: Int
    var run: ThroughputRun
    var backlogCreateSeconds: Double
    /// Steps/s with the backlog over steps/s of the one-worker run without it (when both ran).
    var ratioToEmptyQueue: Double?
}

/// Many steps through one worker, fed in chunks so the queue stays short: a leak shows as
/// growing RSS.
struct SoakReport: Encodable {
    var steps: Int
    var seconds: Double
    var stepsPerSecond: Double
    var rssAfter10000StepsKiB: Int?
    var rssAtEndKiB: Int
    /// (steps run, VmRSS KiB) at every 10,000 steps.
    var rssByStepsKiB: [[Int]]
    var cpuSecondsPer1000Steps: Double
}

/// The one-worker throughput run repeated back to back on the same database.
struct Steadiness: Encodable {
    var runs: [ThroughputRun]
    var stepsPerSecond: [Double]
    /// max / min of the runs' steps/s.
    var spread: Double
}

extension Duration {
    /// Seconds as a fraction, for the report.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
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
