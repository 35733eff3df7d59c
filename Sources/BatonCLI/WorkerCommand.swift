import ArgumentParser
import Baton
import Logging

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run a worker until SIGTERM or SIGINT (graceful: running steps finish first).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var worker: WorkerOptions

    func run() async throws {
        try await reportingErrors {
            // A worker creates no sessions: say where AUTO_PROGRESS_* apply instead of ignoring them.
            let autoSteps = try optionalBoolSetting("AUTO_PROGRESS_STEPS")
            let autoPhases = try optionalBoolSetting("AUTO_PROGRESS_PHASES")
            let settings = try database.databaseSettings()
            try await serve(database: database, worker: worker, api: nil, prepare: {
                guard autoSteps != nil || autoPhases != nil else { return }
                let pool = ConnectionPool(settings: settings, maxConnections: 1)
                let stored = try? await pool.sessionDefaults()
                await pool.close()
                let now = stored.map { "the database's defaults now: AUTO_PROGRESS_STEPS=\($0.autoSteps) AUTO_PROGRESS_PHASES=\($0.autoPhases)" }
                    ?? "the database has no stored defaults yet"
                Logger(label: "baton.worker").notice(
                    "AUTO_PROGRESS_STEPS/AUTO_PROGRESS_PHASES do not change what a worker does: they apply where sessions are created (baton api, baton start, baton session create), and baton migrate stores them in the database for sessions created from SQL; \(now)")
            })
        }
    }
}
