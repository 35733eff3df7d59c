import ArgumentParser
import Baton
import Foundation
import Logging
import UnixSignals

/// `baton bench`: Baton measured as users run it, with real `baton worker` processes and the
/// `builtin:probe` handler, on a private PostgreSQL it starts (or a given database).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput, pickup and chain latency, CPU, memory, scale and steadiness with real worker processes.",
        discussion: """
            Without --database-url it starts a private PostgreSQL (initdb in a temporary folder, a free port,
            PostgreSQL's default settings: fsync and synchronous_commit on) and removes it afterwards. With
            --database-url it uses that database (DATABASE_URL is not read: the bench writes and deletes
            sessions of kinds 'baton-bench*'; use a scratch database). Every measurement starts from a settled
            database: no autovacuum worker running, VACUUM ANALYZE of Baton's tables, CHECKPOINT; ANALYZE and
            CHECKPOINT after each bulk create.

            Sections (--only): throughput (10,000 sessions, 1, 2 and 4 workers), steadiness (--runs one-worker
            runs back to back), pickup, chain, scale (--backlog PENDING tasks of another kind queued behind),
            soak (--soak-steps through one worker), watch, stats. The default runs all but watch and stats and
            takes about 3 minutes on 2 cores; the full sizes (--backlog 1000000 --soak-steps
            1000000) add about 8 minutes. Build with `swift build -c release` before measuring.
            """)

    @Option(name: .customLong("database-url"), help: "Use this database instead of a private PostgreSQL (a scratch database: the bench writes to it).")
    var databaseURL: String?
    @Option(name: .customLong("direct-url"), help: "Direct URL for LISTEN and session locks when --database-url goes through a pooler.")
    var directURL: String?
    @OptionGroup var output: OutputOptions
    @Option(help: "Sections to run, comma-separated: throughput,steadiness,pickup,chain,scale,soak,watch,stats,prune.")
    var only: String = "throughput,steadiness,pickup,chain,scale,soak"
    @Option(help: "One-phase sessions (3 steps each) created in one call for each throughput run.") var sessions: Int = 10_000
    @Option(help: "Worker processes of the throughput runs, comma-separated.") var workers: String = "1,2,4"
    @Option(name: .customLong("batch-size"), help: "WORKER_BATCH_SIZE of the worker processes.") var batchSize: Int = 100
    @Option(help: "WORKER_CONNECTIONS of the worker processes (claim/commit connections each).") var connections: Int = 1
    @Option(help: "One-worker throughput runs back to back for the steadiness figure.") var runs: Int = 5
    @Option(name: .customLong("pickup-sessions"), help: "Sessions, one at a time, for the pickup latency.") var pickupSessions: Int = 300
    @Option(name: .customLong("chain-sessions"), help: "Sessions, one at a time, for the chain latency.") var chainSessions: Int = 100
    @Option(name: .customLong("gap-ms"), help: "Pause after each latency sample, so the next one meets an idle worker.") var gapMs: Int = 50
    @Option(help: "PENDING sessions of another kind queued behind the throughput sessions (scale; the full size is 1000000).")
    var backlog: Int = 100_000
    @Option(name: .customLong("soak-steps"), help: "Steps through one worker for the soak (the full size is 1000000).")
    var soakSteps: Int = 100_000
    @Flag(name: .customLong("no-settle"), help: "Measure without settling the database first (to see what settling changes).")
    var noSettle = false
    @Option(name: .customLong("watch-rows"), help: "watch: rows of the watched and the plain table for the UPDATE cost of baton.watch.")
    var watchRows: Int = 10_000
    @Option(name: .customLong("watch-changes"), help: "watch: changes, one at a time, for the change → step start delay.") var watchChanges: Int = 300
    @Option(name: .customLong("watch-rounds"), help: "watch: rounds of the UPDATE cost measurement (medians are reported).") var watchRounds: Int = 3
    @Option(name: .customLong("stats-sessions"), help: "stats: finished sessions written as history before timing `baton stats` (needs a superuser).")
    var statsSessions: Int = 1_000_000
    @Option(name: .customLong("stats-recent"), help: "stats: sessions finished in the last 15 minutes added for a second timing.")
    var statsRecent: Int = 33_334
    @Option(name: .customLong("prune-sessions"), help: "prune: finished sessions, 30 days old, that a pruner deletes while throughput runs measure (needs a superuser).")
    var pruneSessions: Int = 1_000_000
    @Option(name: .customLong("prune-runs"), help: "prune: one-worker throughput runs before and during the prune.")
    var pruneRuns: Int = 3

    enum Section: String, CaseIterable {
        case throughput, steadiness, pickup, chain, scale, soak, watch, stats, prune
    }

    func sections() throws -> [Section] {
        var chosen: Set<Section> = []
        for name in only.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
            guard let section = Section(rawValue: name) else {
                throw CLIError.usage("unknown bench section '\(name)' in --only; choose from \(Section.allCases.map(\.rawValue).joined(separator: ","))")
            }
            chosen.insert(section)
        }
        guard !chosen.isEmpty else { throw CLIError.usage("--only names no section") }
        return Section.allCases.filter(chosen.contains)
    }

    func workerCounts() throws -> [Int] {
        let counts = workers.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 64 }) else {
            throw CLIError.usage("--workers must be whole numbers from 1 to 64, comma-separated (got '\(workers)')")
        }
        return counts.compactMap { $0 }
    }

    func checkOptions() throws {
        for (name, value, least) in [("--sessions", sessions, 1), ("--batch-size", batchSize, 1), ("--connections", connections, 1), ("--runs", runs, 1),
                                     ("--pickup-sessions", pickupSessions, 1), ("--chain-sessions", chainSessions, 1),
                                     ("--gap-ms", gapMs, 0), ("--backlog", backlog, 0), ("--soak-steps", soakSteps, 1),
                                     ("--watch-rows", watchRows, 1), ("--watch-changes", watchChanges, 1), ("--stats-sessions", statsSessions, 1),
                                     ("--prune-sessions", pruneSessions, 1), ("--prune-runs", pruneRuns, 1)]
        where value < least {
            throw CLIError.usage("\(name) must be at least \(least) (got \(value))")
        }
        guard watchChanges <= watchRows else {
            throw CLIError.usage("--watch-changes must not exceed --watch-rows: each change goes to a row of its own")
        }
        _ = try sections()
        _ = try workerCounts()
    }

    func run() async throws {
        try await reportingErrors {
            try checkOptions()
            let folder = try temporaryFolder()
            var scratch: ScratchPostgres?
            // Ctrl-C or SIGTERM: remove the private PostgreSQL too (worker processes die with the bench).
            let signals = Task { [folder] in
                for await signal in await UnixSignalsSequence(trapping: [.sigint, .sigterm]) {
                    FileHandle.standardError.write(Data("bench: interrupted; removing what it made\n".utf8))
                    await BenchCleanup.shared.run()
                    try? FileManager.default.removeItem(at: folder)
                    Foundation.exit(128 + signal.rawValue)
                }
            }
            defer { signals.cancel() }
            do {
                if databaseURL == nil {
                    progress("starting a private PostgreSQL")
                    let started = try await ScratchPostgres.start()
                    scratch = started
                    await BenchCleanup.shared.set { await started.remove() }
                }
                let report = try await measure(url: databaseURL ?? scratch?.url ?? "", folder: folder)
                await scratch?.remove()
                try? FileManager.default.removeItem(at: folder)
                if output.json { try printJSON(report) } else { BenchTable(report: report).print() }
            } catch {
                await scratch?.remove()
                // The error may name a worker's log: keep them.
                progress("worker logs kept in \(folder.path)")
                throw error
            }
        }
    }

    private func progress(_ line: String) {
        FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
    }

    private func temporaryFolder() throws -> URL {
        var template = Array((NSTemporaryDirectory() + "baton-bench-run.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CLIError.usage("cannot create a temporary folder for the bench") }
        return URL(fileURLWithPath: String(cString: made))
    }
}
