import ArgumentParser
import Baton
import Foundation

/// `baton prune`: retention by hand. Workers do the same every BATON_PRUNE_INTERVAL.
struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete finished sessions (COMPLETED, CANCELLED, FAILED) past their retention, with their tasks and attempts.",
        discussion: """
            The retention is BATON_RETENTION (default 14d): a duration (14d, 36h, 90m) or off, then optional
            kind=duration rules, e.g. 14d,reports=90d,scratch=off. A session's age is counted from its last change.
            Deletes in batches, each its own short transaction; one process prunes at a time (workers prune too).
            """)
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Flag(name: .customLong("dry-run"), help: "Say what would be deleted, per kind, and delete nothing.") var dryRun = false
    @Option(help: "Retention for this run (overrides BATON_RETENTION).") var retention: String?
    @Option(name: .customLong("batch-size"), help: "Sessions per transaction.") var batchSize: Int = 500

    struct Report: Encodable {
        var dryRun: Bool
        var kinds: [Kind]
        var deletedSessions: Int?
        var busy: Bool?
        struct Kind: Encodable {
            var kind: String
            var sessions: Int64
            var tasks: Int64
            var attempts: Int64
            var oldest: String
        }
    }

    func run() async throws {
        try await reportingErrors {
            guard batchSize >= 1 else { throw CLIError.usage("--batch-size must be at least 1 (got \(batchSize))") }
            let policy = try retentionSetting(retention)
            let pool = try database.makePool()
            if dryRun {
                let kinds = try await pool.prunable(policy).map {
                    Report.Kind(kind: $0.kind, sessions: $0.sessions, tasks: $0.tasks, attempts: $0.attempts, oldest: $0.oldest)
                }
                if output.json { try printJSON(Report(dryRun: true, kinds: kinds)); return }
                if kinds.isEmpty { print(policy.keepsEverything ? "retention is off: nothing is ever pruned" : "nothing to prune"); return }
                print("would delete (dry run, nothing deleted):")
                for k in kinds {
                    print("  \(k.kind): \(k.sessions) session\(k.sessions == 1 ? "" : "s"), \(k.tasks) tasks, \(k.attempts) attempts; oldest last change \(k.oldest)")
                }
                return
            }
            let (deleted, busy) = try await pool.pruneAll(policy, batchSize: batchSize)
            if output.json { try printJSON(Report(dryRun: false, kinds: [], deletedSessions: deleted, busy: busy)); return }
            print("deleted \(deleted) finished session\(deleted == 1 ? "" : "s") past their retention, with their tasks and attempts")
            if busy { print("another process (a worker's pruner) is pruning now and will finish the rest") }
        }
    }
}
