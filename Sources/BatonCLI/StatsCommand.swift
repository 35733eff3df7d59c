import ArgumentParser
import Baton
import Foundation

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per kind: sessions by status, steps per minute, failure rate, step time, waiting steps, the gate; watches and schedules.",
        discussion: """
            Rates and times cover the last 15 minutes. COMPLETED and CANCELLED counts are estimates (marked ~)
            once the sessions table holds more than 100,000 rows; everything else is exact.
            """)
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let stats = try await database.makeClient().statistics()
            if output.json { try printJSON(stats); return }
            print(Self.text(stats))
        }
    }

    static func text(_ stats: Statistics) -> String {
        var lines = ["statistics at \(stats.at)"]
        if stats.kinds.isEmpty { lines.append("no sessions") }
        let order = SessionStatus.allCases.map(\.rawValue)
        for kind in stats.kinds {
            lines.append("")
            lines.append("kind \(kind.kind)")
            let counts = order.compactMap { status -> String? in
                guard let n = kind.sessions[status], n > 0 else { return nil }
                let estimated = stats.finishedEstimated && (status == "COMPLETED" || status == "CANCELLED")
                return "\(status) \(estimated ? "~" : "")\(n)"
            }
            lines.append("  sessions   " + (counts.isEmpty ? "none" : counts.joined(separator: " · ")))
            let rates = kind.stepsPerMinute
            var steps = "  steps/min  \(number(rates.lastMinute)) (1m) · \(number(rates.last5Minutes)) (5m) · \(number(rates.last15Minutes)) (15m)"
            if let rate = kind.failureRate { steps += "   failed \(number(rate * 100))% of attempts (15m)" }
            lines.append(steps)
            if let p50 = kind.stepSeconds.p50, let p95 = kind.stepSeconds.p95 {
                lines.append("  step time  p50 \(number(p50, digits: 3)) s · p95 \(number(p95, digits: 3)) s (15m)")
            }
            var waiting = "  waiting    \(kind.readySteps) ready step\(kind.readySteps == 1 ? "" : "s")"
            if let oldest = kind.oldestReadySeconds { waiting += ", oldest \(number(oldest)) s" }
            waiting += " · \(kind.atGate) at the gate"
            lines.append(waiting)
        }
        if !stats.watches.isEmpty {
            lines.append("")
            lines.append("watched tables")
            for w in stats.watches {
                let columns = w.columns.map { "columns " + $0.joined(separator: ", ") } ?? "any column"
                lines.append("  \(w.table) → \(w.kind)  key \(w.keyColumn), \(columns); \(w.queued) key\(w.queued == 1 ? "" : "s") queued")
            }
        }
        if !stats.schedules.isEmpty {
            lines.append("")
            lines.append("schedules")
            for s in stats.schedules {
                let spec = s.cron.map { "cron '\($0)' \(s.timeZone)" } ?? "every \(number(s.everySeconds ?? 0)) s"
                var line = "  \(s.name) → \(s.kind)  \(spec)  next \(s.nextRunAt ?? "(planned by a running worker)")"
                if let last = s.lastRunAt {
                    line += "  last \(last) \(s.lastRun ?? "")"
                    if let status = s.lastSessionStatus { line += " (\(status))" }
                }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    static func number(_ value: Double, digits: Int = 1) -> String {
        String(format: "%.\(digits)f", value)
    }
}

private func number(_ value: Double, digits: Int = 1) -> String { StatsCommand.number(value, digits: digits) }
