import ArgumentParser
import Baton
import Foundation
import Logging

/// `baton`: the root command.
public struct BatonCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "baton",
        abstract: "A PostgreSQL-native, event-driven worker for multi-phase sessions (THINK → EXECUTE → INTEGRATE).",
        discussion: """
            Exit codes: 0 ok, 1 error, 2 bad usage, 3 unknown id, 4 wrong state, 5 bad input, 6 database unreachable.
            Every option also reads its environment variable (DATABASE_URL, BATON_HANDLER, ...).
            """,
        subcommands: [
            MigrateCommand.self, WorkerCommand.self, DevCommand.self, SessionCommand.self,
            ProgressCommand.self, AdvanceCommand.self, RetryCommand.self, CancelCommand.self,
            StatsCommand.self, HealthCommand.self, BenchCommand.self,
        ])

    public init() {}

    /// Sets up logging once, then runs the command line.
    public static func start() async {
        let level = ProcessInfo.processInfo.environment["BATON_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        await main()
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the SQL migrations this binary carries (idempotent).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let connection = DatabaseConnection(settings: try database.directSettings(), label: "migrate", preparedStatements: false)
            let report = try await Migrator().migrate(connection)
            await connection.close()
            if output.json {
                try printJSON(report)
            } else if report.applied.isEmpty {
                print("schema up to date (\(report.alreadyApplied.count) migrations applied earlier)")
            } else {
                print("applied: \(report.applied.joined(separator: ", "))")
            }
        }
    }
}

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Check that the database answers (exit 0) or not (exit 6).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            try await database.makeClient().ping()
            if output.json { try printJSON(["status": "ok"]) } else { print("ok: the database answers") }
        }
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Sessions, steps and attempts by status.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let stats = try await database.makeClient().stats()
            if output.json { try printJSON(stats); return }
            func line(_ title: String, _ counts: [String: Int]) -> String {
                "\(title): " + (counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
            print(line("sessions", stats.sessionsByStatus))
            print(line("steps", stats.tasksByStatus))
            print(line("attempts", stats.attemptsByOutcome))
            print("ready now: \(stats.readyTasks)  awaiting proceed: \(stats.awaitingProceed)")
        }
    }
}
