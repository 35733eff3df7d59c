import Baton
import Foundation
import Logging

extension BenchCommand {
    /// Runs the chosen sections on the database at `url` and gathers the report.
    func measure(url: String, folder: URL) async throws -> BenchReport {
        let settings = try ConnectionSettings(url, applicationName: "baton-bench")
        let direct = try directURL.map { try ConnectionSettings($0, applicationName: "baton-bench") } ?? settings
        var quiet = Logger(label: "baton.bench")
        quiet.logLevel = .warning
        let migrator = DatabaseConnection(settings: direct, label: "bench", preparedStatements: false)
        do {
            _ = try await Migrator(logger: quiet).migrate(migrator)
        } catch {
            await migrator.close()
            throw error
        }
        await migrator.close()
        let pool = ConnectionPool(settings: settings, maxConnections: 4)
        let probe = try ProbeReceiver(path: folder.appending(path: "probe.sock").path)
        let notes = BenchNotes()
        let context = BenchContext(
            pool: pool, direct: direct, databaseURL: url, directURL: directURL, executable: try WorkerProcess.ownExecutable(),
            probe: probe, folder: folder, batchSize: batchSize, connections: connections, settles: !noSettle, notes: notes)
        do {
            let report = try await measure(context)
            if databaseURL != nil { try await context.deleteBenchSessions() }
            await probe.close()
            await pool.close()
            return report
        } catch {
            if databaseURL != nil { _ = try? await context.deleteBenchSessions() }
            await probe.close()
            await pool.close()
            throw error
        }
    }

    private func measure(_ context: BenchContext) async throws -> BenchReport {
        let sections = try sections()
        var report = BenchReport(
            database: databaseURL == nil ? "private" : "given", postgres: try await ScratchPostgres.settings(context.pool),
            batchSize: batchSize, connections: connections, sessions: sessions, sections: sections.map(\.rawValue), settled: !noSettle)
        let throughput = ThroughputBench(context: context)
        let latency = LatencyBench(context: context, gapMs: gapMs)
        var oneWorker: ThroughputRun?
        for section in sections {
            switch section {
            case .throughput:
                var runs: [ThroughputRun] = []
                for count in try workerCounts() {
                    context.progress("throughput: \(sessions) sessions, \(count) worker process\(count == 1 ? "" : "es")")
                    let (run, _) = try await throughput.run(sessions: sessions, workers: count)
                    context.progress("  \(Int(run.stepsPerSecond)) steps/s")
                    runs.append(run)
                }
                report.throughput = runs
                oneWorker = runs.first { $0.workers == 1 }
                if let one = oneWorker, let worker = one.workerProcesses.first {
                    report.cpuSecondsPer1000Steps = (worker.cpuSeconds - worker.startupCpuSeconds) / Double(one.steps) * 1000
                    report.rssEndKiB = worker.rssKiB
                }
            case .steadiness:
                var done: [ThroughputRun] = []
                for i in 1...runs {
                    context.progress("steadiness: run \(i) of \(runs)")
                    let (run, _) = try await throughput.run(sessions: sessions, workers: 1)
                    context.progress("  \(Int(run.stepsPerSecond)) steps/s")
                    done.append(run)
                }
                let rates = done.map(\.stepsPerSecond)
                report.steadiness = Steadiness(runs: done, stepsPerSecond: rates,
                                               spread: (rates.max() ?? 0) / max(rates.min() ?? 1, 1e-9))
                oneWorker = oneWorker ?? done.first
            case .pickup:
                context.progress("pickup: \(pickupSessions) sessions one at a time")
                let pickup = try await latency.pickup(pickupSessions)
                report.pickup = pickup.report
                report.rssIdleKiB = pickup.rssIdleKiB
            case .chain:
                context.progress("chain: \(chainSessions) sessions one at a time")
                report.chain = try await latency.chain(chainSessions)
            case .scale:
                context.progress("scale: \(sessions) sessions with \(backlog) PENDING of another kind behind them")
                let (run, backlogSeconds) = try await throughput.run(sessions: sessions, workers: 1, backlog: backlog)
                context.progress("  \(Int(run.stepsPerSecond)) steps/s")
                report.scale = ScaleReport(
                    backlog: backlog, run: run, backlogCreateSeconds: backlogSeconds,
                    ratioToEmptyQueue: oneWorker.map { run.stepsPerSecond / max($0.stepsPerSecond, 1e-9) })
                try await context.deleteBenchSessions()
            case .soak:
                context.progress("soak: \(soakSteps) steps through one worker")
                report.soak = try await throughput.soak(steps: soakSteps)
            case .watch:
                context.progress("watch: \(watchRows) rows")
                try await context.deleteBenchSessions()
                try await context.settle()
                let bench = WatchBench(direct: context.direct, pool: context.pool, rows: watchRows, changes: watchChanges,
                                       rounds: max(1, watchRounds))
                report.watch = try await bench.run { body in
                    let worker = try await context.startWorkers(1, kinds: [WatchBench.kind], handler: "builtin:echo")[0]
                    do {
                        let result = try await body()
                        await worker.stop()
                        return result
                    } catch {
                        await worker.stop(graceSeconds: 5)
                        throw error
                    }
                }
            case .stats:
                context.progress("stats: \(statsSessions) finished sessions of history")
                try await context.deleteBenchSessions()
                report.stats = try await StatsBench(pool: context.pool, sessions: statsSessions, recentSessions: statsRecent, samples: 20).run()
            case .prune:
                context.progress("prune: \(pruneSessions) finished sessions, 30 days old")
                try await context.deleteBenchSessions()
                report.prune = try await PruneBench(context: context, sessions: pruneSessions, sessionsPerRun: sessions,
                                                    runs: pruneRuns, batchSize: 500).run()
            }
        }
        if report.pickup != nil || report.chain != nil {
            let pickupHops = report.pickup.map { _ in pickupSessions } ?? 0
            let chainHops = report.chain.map { _ in chainSessions * 3 } ?? 0
            report.lostWakeups = LostWakeups(hops: pickupHops + chainHops,
                                             over1s: (report.pickup?.over1s ?? 0) + (report.chain?.hopsOver1s ?? 0))
        }
        report.settleNotes = context.notes.all
        return report
    }
}

/// What to undo when the bench is interrupted (the private PostgreSQL).
actor BenchCleanup {
    static let shared = BenchCleanup()
    private var action: (@Sendable () async -> Void)?

    func set(_ action: @escaping @Sendable () async -> Void) { self.action = action }

    func run() async {
        let action = self.action
        self.action = nil
        await action?()
    }
}
