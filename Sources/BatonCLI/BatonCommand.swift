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
        version: "baton \(BatonVersion.description)",
        subcommands: [
            MigrateCommand.self, WorkerCommand.self, APICommand.self, StartCommand.self, DevCommand.self, SessionCommand.self,
            ProgressCommand.self, AdvanceCommand.self, RetryCommand.self, CancelCommand.self,
            WatchCommand.self, ScheduleCommand.self, StatsCommand.self, PruneCommand.self, HealthCommand.self, BenchCommand.self,
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
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // ArgumentParser exits 64 (EX_USAGE) for a command line it cannot parse; Baton
            // documents 2 for bad usage.
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the SQL migrations this binary carries, then its changed SQL functions (idempotent).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Also create the roles baton_client (applications: client functions and reads) and baton_worker, and grant them their rights here (needs CREATEROLE).")
    var roles = false

    func run() async throws {
        try await reportingErrors {
            let connection = DatabaseConnection(settings: try database.directSettings(), label: "migrate", preparedStatements: false)
            let report = try await Migrator().migrate(connection, roles: roles)
            // The deployment's AUTO_PROGRESS_* go into the database, for sessions created from SQL.
            let autoSteps = try optionalBoolSetting("AUTO_PROGRESS_STEPS")
            let autoPhases = try optionalBoolSetting("AUTO_PROGRESS_PHASES")
            var stored: SessionDefaults?
            if autoSteps != nil || autoPhases != nil {
                stored = try await connection.storeSessionDefaults(autoSteps: autoSteps, autoPhases: autoPhases)
            }
            await connection.close()
            if output.json {
                try printJSON(report)
            } else if report.applied.isEmpty && report.functionsApplied.isEmpty {
                print("schema up to date (\(report.alreadyApplied.count) migrations and \(report.functionsUnchanged.count) function files applied earlier)")
            } else {
                if !report.applied.isEmpty { print("applied: \(report.applied.joined(separator: ", "))") }
                if !report.functionsApplied.isEmpty { print("functions applied: \(report.functionsApplied.joined(separator: ", "))") }
            }
            if roles && !output.json { print("roles baton_client and baton_worker granted their rights in this database") }
            if let stored, !output.json {
                print("session defaults stored (for sessions created without saying, from SQL too): "
                      + "AUTO_PROGRESS_STEPS=\(stored.autoSteps) AUTO_PROGRESS_PHASES=\(stored.autoPhases)")
            }
        }
    }
}

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check a running server's /healthz, or the database itself (exit 0 healthy, 6 database unreachable).",
        discussion: """
            With --url (or BATON_API_URL) it asks that server's GET /healthz, which answers 200 only when
            the database answers SELECT 1. Without one, it asks the database at DATABASE_URL directly,
            or the server at http://127.0.0.1:8080 when no DATABASE_URL is set either.
            """)
    @Option(help: "Base URL of a running Baton API (env BATON_API_URL).") var url: String?
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let server = setting(url, "BATON_API_URL")
                ?? (setting(database.databaseURL, "DATABASE_URL") == nil ? "http://127.0.0.1:8080" : nil)
            if let server {
                try await checkHealth(of: server)
            } else {
                try await database.makeClient().ping()
            }
            if output.json { try printJSON(["status": "ok"]) } else { print("ok: the database answers") }
        }
    }
}
