import Foundation

/// `baton bench` without `--json`: the report as a readable table.
struct BenchTable {
    let report: BenchReport

    func print() {
        for line in lines() { say(line) }
    }

    func lines() -> [String] {
        var out: [String] = []
        let pg = report.postgres
        out.append("baton bench on a \(report.database) PostgreSQL \(pg["server_version"] ?? "?") (fsync \(pg["fsync"] ?? "?"), "
                   + "synchronous_commit \(pg["synchronous_commit"] ?? "?")), WORKER_BATCH_SIZE \(report.batchSize), "
                   + "WORKER_CONNECTIONS \(report.connections), "
                   + (report.settled ? "settled before each measurement" : "NOT settled (--no-settle)"))
        for note in report.settleNotes { out.append("  note: \(note)") }
        if let runs = report.throughput {
            out.append("")
            out.append("throughput: \(number(report.sessions)) one-phase sessions (\(number(report.sessions * 3)) steps) created in one call, "
                       + "then worker processes; first step start → last COMPLETED")
            out.append(row(["workers", "steps/s", "seconds", "create s", "checkpoints", "autovacuums", "load", "steps per worker"]))
            for run in runs { out.append(runRow(run, label: "\(run.workers)")) }
        }
        if let cpu = report.cpuSecondsPer1000Steps { out.append("worker CPU per 1,000 steps: \(f(cpu, 3)) s (one worker, start-up excluded)") }
        if report.rssIdleKiB != nil || report.rssEndKiB != nil {
            out.append("worker RSS: idle \(report.rssIdleKiB.map(kib) ?? "-"), at the end of the one-worker run \(report.rssEndKiB.map(kib) ?? "-")")
        }
        if let steady = report.steadiness {
            out.append("")
            out.append("steadiness: \(steady.runs.count) one-worker runs back to back, spread max/min \(f(steady.spread, 2))")
            out.append(row(["run", "steps/s", "seconds", "create s", "checkpoints", "autovacuums", "load", "steps per worker"]))
            for (i, run) in steady.runs.enumerated() { out.append(runRow(run, label: "\(i + 1)")) }
        }
        if let pickup = report.pickup {
            out.append("")
            out.append("pickup, \(pickup.sessions) sessions one at a time on an idle, listening worker (create returned → THINK started):")
            out.append("  " + percentiles(pickup.pickupMs) + "; from the call's start: p50 \(f(pickup.fromCallStartMs.p50)) ms")
        }
        if let chain = report.chain {
            out.append("")
            out.append("chain, \(chain.sessions) one-phase sessions one at a time (create returned → INTEGRATE started):")
            out.append("  total " + percentiles(chain.totalMs))
            out.append("  per hop " + percentiles(chain.hopMs) + " (create → THINK p50 \(f(chain.hop1Ms.p50)); "
                       + "THINK returned → EXECUTE p50 \(f(chain.hop2Ms.p50)); EXECUTE returned → INTEGRATE p50 \(f(chain.hop3Ms.p50)) ms)")
        }
        if let lost = report.lostWakeups {
            out.append("lost wake-ups: \(lost.over1s) of \(lost.hops) hops took more than 1 s")
        }
        if let scale = report.scale {
            out.append("")
            out.append("scale: \(number(scale.backlog)) PENDING sessions of another kind queued behind (created in \(f(scale.backlogCreateSeconds, 1)) s):")
            out.append(row(["workers", "steps/s", "seconds", "create s", "checkpoints", "autovacuums", "load", "steps per worker"]))
            out.append(runRow(scale.run, label: "1"))
            if let ratio = scale.ratioToEmptyQueue { out.append("  \(f(ratio, 2)) × the one-worker run without the backlog") }
        }
        if let soak = report.soak {
            out.append("")
            out.append("soak: \(number(soak.steps)) steps through one worker: \(number(Int(soak.stepsPerSecond))) steps/s, "
                       + "CPU \(f(soak.cpuSecondsPer1000Steps, 3)) s per 1,000 steps")
            out.append("  RSS after 10,000 steps \(soak.rssAfter10000StepsKiB.map(kib) ?? "-"), at the end \(kib(soak.rssAtEndKiB))")
        }
        if let watch = report.watch {
            out.append("")
            out.append("baton.watch, UPDATE cost per row over \(watch.rows) rows (median of \(watch.rounds) rounds; plain → watched = extra µs):")
            for (name, cost) in [("one statement, creating a session per key", watch.oneStatementCreating),
                                 ("one statement, folding into queued sessions", watch.oneStatementFolding),
                                 ("row by row, a commit each, creating", watch.rowByRowCreating),
                                 ("row by row, a commit each, folding", watch.rowByRowFolding),
                                 ("row by row in one transaction", watch.rowByRowOneTransaction)] {
                out.append("  \(name): \(f(cost.plainMicrosPerRow)) → \(f(cost.watchedMicrosPerRow)) = +\(f(cost.extraMicrosPerRow)) µs")
            }
            out.append("  committed change → THINK handler started, \(watch.changes) changes one at a time: " + percentiles(watch.changeToStartMs))
        }
        if let prune = report.prune {
            out.append("")
            out.append("prune: \(number(prune.oldSessions)) finished sessions 30 days old (written in \(f(prune.loadSeconds)) s), "
                       + "deleted in batches of \(prune.batchSize) while one worker ran \(number(report.sessions)) sessions")
            out.append("  steps/s before: \(prune.stepsPerSecondBefore.map { number(Int($0)) }.joined(separator: ", "))"
                       + " · during: \(prune.stepsPerSecondDuring.map { number(Int($0)) }.joined(separator: ", "))"
                       + " · during/before (medians) \(f(prune.ratio))")
            out.append("  pruned \(number(prune.prunedSessions)) sessions in \(f(prune.pruneSeconds)) s "
                       + "(\(number(Int(prune.sessionsPrunedPerSecond))) sessions/s, with their tasks and attempts)"
                       + (prune.pruneOutlastedTheRuns ? "" : "; the prune ended before the last run did"))
        }
        if let stats = report.stats {
            out.append("")
            out.append("baton stats with \(stats.finishedSessions) finished sessions (\(stats.tasks) tasks, \(stats.attempts) attempts, "
                       + "\(stats.attemptsInLast15Minutes) in the last 15 minutes; finished counts \(stats.finishedEstimated ? "estimated" : "exact")): "
                       + "p50 \(f(stats.statsMs.p50)) ms, p99 \(f(stats.statsMs.p99)) ms, max \(f(stats.statsMs.max)) ms")
            out.append("  and with \(stats.busyAttemptsInLast15Minutes) attempts in the last 15 minutes: p50 \(f(stats.busyStatsMs.p50)) ms, "
                       + "p99 \(f(stats.busyStatsMs.p99)) ms, max \(f(stats.busyStatsMs.max)) ms")
        }
        return out
    }

    private func runRow(_ run: ThroughputRun, label: String) -> String {
        row([label, number(Int(run.stepsPerSecond.rounded())), f(run.seconds), f(run.createSeconds), "\(run.checkpointsDuring)",
             "\(run.autovacuumsDuring)", f(run.loadAverage.first ?? 0), run.workerProcesses.map { number($0.steps) }.joined(separator: " + ")])
    }

    private func row(_ cells: [String]) -> String {
        let widths = [8, 9, 9, 9, 12, 12, 6, 0]
        return "  " + zip(cells, widths).map { cell, width in cell.padding(toLength: max(width, cell.count), withPad: " ", startingAt: 0) }
            .joined(separator: " ")
    }

    private func percentiles(_ p: Percentiles) -> String {
        "p50 \(f(p.p50)) ms, p95 \(f(p.p95)) ms, p99 \(f(p.p99)) ms, max \(f(p.max)) ms"
    }

    private func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

    private func kib(_ value: Int) -> String { "\(number(value)) KiB" }

    private func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { grouped.append(",") }
            grouped.append(c)
        }
        return (value < 0 ? "-" : "") + String(grouped.reversed())
    }
}
