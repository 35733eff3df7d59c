import Baton
import Foundation

/// Throughput measurements with real worker processes: the plain run (1, 2, 4 workers), the
/// same with a backlog of another kind queued behind (scale), and the soak.
struct ThroughputBench {
    let context: BenchContext
    /// Untagged probe calls per progress datagram.
    static let tick = 1_000

    /// The same runs without settling the database first.
    func unsettled() -> ThroughputBench {
        var context = context
        context.settles = false
        return ThroughputBench(context: context)
    }

    /// `sessions` one-phase sessions created in one call (after a settled start), then ANALYZE,
    /// then `workers` worker processes; runs until every session is COMPLETED.
    func run(sessions: Int, workers count: Int, backlog: Int = 0) async throws -> (ThroughputRun, backlogSeconds: Double) {
        let kind = BenchContext.kind
        try await context.deleteBenchSessions()
        try await context.settle()
        let createSeconds = try await context.createSessions(sessions, kind: kind, chunk: sessions)
        // Queued behind: created later, so its tasks come after the bench's first steps in the
        // queue's order (and before every step those queue next).
        let backlogSeconds = backlog > 0 ? try await context.createSessions(backlog, kind: BenchContext.backlogKind) : 0
        try await context.settleAfterCreate()
        let before = try await context.serverCounters()
        context.probe.reset()
        let steps = sessions * 3
        let startedAt = ISO8601DateFormatter.string(
            from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let loadAtStart = loadAverage()
        let workers = try await context.startWorkers(count, kinds: [kind], expected: count == 1 ? steps : 0, tickEvery: Self.tick)
        let figures: [(WorkerProcess, cpu: Double, startup: Double, rss: Int)]
        let loadAtEnd: Double
        do {
            let startup = try await awaitSteps(steps, workers: workers)
            try await awaitCompleted(kind: kind, workers: workers)
            figures = workers.map { ($0, $0.cpuSeconds() ?? 0, startup[$0.pid] ?? 0, $0.residentKiB() ?? 0) }
            loadAtEnd = loadAverage()
        } catch {
            for worker in workers { await worker.stop(graceSeconds: 5) }
            throw error
        }
        for worker in workers { await worker.stop() }
        let after = try await context.serverCounters()
        let span = try await context.pool.query("""
            SELECT extract(epoch FROM (SELECT max(updated_at) FROM baton.sessions WHERE kind = $1 AND status = 'COMPLETED')
                                      - min(started_at)) AS seconds
            FROM baton.attempts WHERE kind = $1
            """, [kind]).first?["seconds"].flatMap(Double.init) ?? 0
        let byWorker = try await stepsByWorker(kind: kind)
        let run = ThroughputRun(
            startedAt: startedAt, loadAverage: [loadAtStart, loadAtEnd], workers: count, sessions: sessions, steps: steps,
            backlog: backlog, createSeconds: createSeconds, seconds: span, stepsPerSecond: span > 0 ? Double(steps) / span : 0,
            workerProcesses: figures.map { worker, cpu, startup, rss in
                WorkerFigures(pid: worker.pid, steps: byWorker[worker.pid] ?? 0, cpuSeconds: cpu, startupCpuSeconds: startup, rssKiB: rss)
            },
            checkpointsDuring: after.checkpoints - before.checkpoints, autovacuumsDuring: after.autovacuums - before.autovacuums)
        return (run, backlogSeconds)
    }

    /// `steps` steps through one worker, fed in chunks of 5,000 sessions so that no more than
    /// about 45,000 steps wait at any time: RSS at every 10,000 steps shows a leak.
    func soak(steps wanted: Int) async throws -> SoakReport {
        let kind = BenchContext.kind
        let every = 10_000
        let sessions = max(1, (wanted + 2) / 3)
        let chunk = min(5_000, sessions)
        let steps = sessions * 3
        try await context.deleteBenchSessions()
        try await context.settle()
        context.probe.reset()
        var created = 0
        func feed() async throws {
            let count = min(chunk, sessions - created)
            guard count > 0 else { return }
            _ = try await context.createSessions(count, kind: kind, chunk: count)
            created += count
        }
        for _ in 0..<3 { try await feed() }
        let worker = try await context.startWorkers(1, kinds: [kind], expected: steps, tickEvery: every)[0]
        var rss: [[Int]] = []
        let cpu: Double, startup: Double, rssEnd: Int
        do {
            var firstCPU: Double?
            var lastProgress = ContinuousClock.now
            while context.probe.all(kind: "nth").isEmpty {
                try context.requireRunning([worker])
                if firstCPU == nil, !context.probe.all(kind: "first").isEmpty { firstCPU = worker.cpuSeconds() }
                let ticks = context.probe.all(kind: "tick").compactMap(\.n).sorted()
                for n in ticks where n > (rss.last?[0] ?? 0) {
                    rss.append([n, worker.residentKiB() ?? 0])
                    if n % 100_000 == 0 { context.progress("soak: \(n) of \(steps) steps, RSS \(rss.last?[1] ?? 0) KiB") }
                }
                // Keep two chunks or more queued ahead of the worker.
                while created < sessions, created * 3 - (ticks.last ?? 0) < 2 * chunk * 3 { try await feed() }
                let before = context.probe.count
                await context.probe.next(timeoutSeconds: 1)
                if context.probe.count != before {
                    lastProgress = .now
                } else if ContinuousClock.now - lastProgress > .seconds(120) {
                    throw CLIError.usage("the soak worker ran no 10,000 steps in 2 minutes; see \(worker.logPath)")
                }
            }
            try await awaitCompleted(kind: kind, workers: [worker])
            cpu = worker.cpuSeconds() ?? 0
            startup = firstCPU ?? 0
            rssEnd = worker.residentKiB() ?? 0
        } catch {
            await worker.stop(graceSeconds: 5)
            throw error
        }
        await worker.stop()
        let span = try await context.pool.query("""
            SELECT extract(epoch FROM (SELECT max(updated_at) FROM baton.sessions WHERE kind = $1 AND status = 'COMPLETED')
                                      - min(started_at)) AS seconds
            FROM baton.attempts WHERE kind = $1
            """, [kind]).first?["seconds"].flatMap(Double.init) ?? 0
        return SoakReport(
            steps: steps, seconds: span, stepsPerSecond: span > 0 ? Double(steps) / span : 0,
            rssAfter10000StepsKiB: rss.first { $0[0] == every }?[1], rssAtEndKiB: rssEnd, rssByStepsKiB: rss,
            cpuSecondsPer1000Steps: (cpu - startup) / Double(steps) * 1000)
    }

    /// Waits until the workers' handlers have run `steps` steps (the probe's `nth` for one
    /// worker, its ticks for several), failing if a worker dies or nothing moves for 2 minutes.
    /// Returns each worker's CPU seconds read when its first step started (its start-up cost).
    func awaitSteps(_ steps: Int, workers: [WorkerProcess]) async throws -> [Int32: Double] {
        var startup: [Int32: Double] = [:]
        var lastProgress = ContinuousClock.now
        var seen = 0
        while true {
            try context.requireRunning(workers)
            for first in context.probe.all(kind: "first") {
                if let pid = first.pid, startup[pid] == nil, let worker = workers.first(where: { $0.pid == pid }) {
                    startup[pid] = worker.cpuSeconds()
                }
            }
            if workers.count == 1 {
                if !context.probe.all(kind: "nth").isEmpty { return startup }
            } else if ticked() >= steps - workers.count * Self.tick {
                return startup
            }
            let received = context.probe.count
            if received != seen {
                seen = received
                lastProgress = .now
            } else if ContinuousClock.now - lastProgress > .seconds(120) {
                throw CLIError.usage("the workers ran no step for 2 minutes (\(ticked()) of \(steps) steps done); see \(workers[0].logPath)")
            }
            await context.probe.next(timeoutSeconds: 1)
        }
    }

    /// Untagged handler calls counted by the workers' latest ticks.
    func ticked() -> Int {
        var latest: [Int32: Int] = [:]
        for tick in context.probe.all(kind: "tick") {
            latest[tick.pid ?? 0] = max(latest[tick.pid ?? 0] ?? 0, tick.n ?? 0)
        }
        return latest.values.reduce(0, +)
    }

    /// After the handlers ran: polls until the database shows every session of `kind` COMPLETED
    /// (the last commits), every 5 ms like the peer benchmark's driver.
    func awaitCompleted(kind: String, workers: [WorkerProcess]) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            let row = try await context.pool.query("""
                SELECT count(*) FILTER (WHERE status <> 'COMPLETED') AS open, count(*) FILTER (WHERE status = 'FAILED') AS failed
                FROM baton.sessions WHERE kind = $1
                """, [kind]).first
            if try row?.int("failed") ?? 0 > 0 {
                throw CLIError.usage("bench sessions FAILED; see the worker log \(workers[0].logPath)")
            }
            if try row?.int("open") ?? 1 == 0 { return }
            try context.requireRunning(workers)
            guard ContinuousClock.now < deadline else {
                throw CLIError.usage("sessions still open 2 minutes after their last step started; see \(workers[0].logPath)")
            }
            try await Task.sleep(for: .milliseconds(5))  // allowed: the end is read from the database, as the peers' driver does
        }
    }

    /// Attempts per worker process, from the pid in the attempts' worker ids (host:pid:random).
    func stepsByWorker(kind: String) async throws -> [Int32: Int] {
        let rows = try await context.pool.query(
            "SELECT worker_id, count(*) AS n FROM baton.attempts WHERE kind = $1 GROUP BY worker_id", [kind])
        var steps: [Int32: Int] = [:]
        for row in rows.records {
            let parts = (row["worker_id"] ?? "").split(separator: ":")
            if parts.count >= 3, let pid = Int32(parts[parts.count - 2]) { steps[pid, default: 0] += try row.int("n") }
        }
        return steps
    }
}

/// The 1-minute load average (/proc/loadavg).
func loadAverage() -> Double {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
    return text.split(separator: " ").first.flatMap { Double($0) } ?? 0
}
