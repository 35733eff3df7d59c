import Baton
import Foundation

/// `baton bench --only prune`: what retention costs the hot path. `sessions` finished sessions
/// (3 tasks and 3 attempts each) are written 30 days old; one-worker throughput runs are
/// measured before the prune, then again while a pruner (as a worker runs it: batches of
/// `batchSize`, each its own transaction, resting between batches as long as each took)
/// deletes them all.
struct PruneBench {
    static let kind = "baton-prune-history"
    let context: BenchContext
    let sessions: Int
    let sessionsPerRun: Int
    let runs: Int
    let batchSize: Int

    struct Report: Encodable {
        var oldSessions: Int
        var loadSeconds: Double
        var batchSize: Int
        /// One-worker throughput, steps/s, settled, before the prune.
        var stepsPerSecondBefore: [Double]
        /// The same, while the prune ran (no settling: the prune keeps the tables busy).
        var stepsPerSecondDuring: [Double]
        /// Median during / median before (`Percentiles.p50`).
        var ratio: Double
        var prunedSessions: Int
        var pruneSeconds: Double
        var sessionsPrunedPerSecond: Double
        /// Whether the prune was still running when the last run during it ended.
        var pruneOutlastedTheRuns: Bool
    }

    func run() async throws -> Report {
        let clock = ContinuousClock()
        let loadStart = clock.now
        try await StatsBench(pool: context.pool, sessions: sessions, recentSessions: 0, samples: 0)
            .write(sessions, prefix: "p", over: "14 days", ago: "30 days", kind: Self.kind)
        let loaded = (clock.now - loadStart).inSeconds
        do {
            let throughput = ThroughputBench(context: context)
            var before: [Double] = []
            for index in 1...runs {
                context.progress("prune: run \(index) of \(runs) before the prune")
                before.append(try await throughput.run(sessions: sessionsPerRun, workers: 1).0.stepsPerSecond)
            }
            // Retention that covers the old history only (the bench's own sessions are new).
            let policy = try RetentionPolicy(parsing: "7d")
            let pruneStart = clock.now
            // As a worker's pruner does it (with its rests between batches).
            let prune = Task { [pool = context.pool, batchSize] () async throws -> (Int, Duration) in
                let (total, _) = try await pool.pruneAll(policy, batchSize: batchSize)
                return (total, clock.now - pruneStart)
            }
            var during: [Double] = []
            let unsettled = throughput.unsettled()
            for index in 1...runs {
                context.progress("prune: run \(index) of \(runs) during the prune")
                during.append(try await unsettled.run(sessions: sessionsPerRun, workers: 1).0.stepsPerSecond)
            }
            let outlasted = clock.now - pruneStart
            let (pruned, took) = try await prune.value
            let ratio = Percentiles(during).p50 / max(Percentiles(before).p50, 1e-9)
            return Report(
                oldSessions: sessions, loadSeconds: loaded, batchSize: batchSize, stepsPerSecondBefore: before,
                stepsPerSecondDuring: during, ratio: ratio, prunedSessions: pruned, pruneSeconds: took.inSeconds,
                sessionsPrunedPerSecond: Double(pruned) / max(took.inSeconds, 1e-9), pruneOutlastedTheRuns: took > outlasted)
        } catch {
            _ = try? await context.pool.query("DELETE FROM baton.sessions WHERE kind LIKE $1 || '-%'", [Self.kind])
            throw error
        }
    }
}
