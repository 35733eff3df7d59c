import ArgumentParser
import Baton
import BatonAPI
import BatonHost

/// How the HTTP API runs (every option also an environment variable).
struct APIOptions: ParsableArguments {
    @Option(help: "Address to listen on (env BATON_API_HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env BATON_API_PORT, default 8080).")
    var port: Int?

    @Option(name: .customLong("max-body"), help: "Largest request body in bytes (env BATON_API_MAX_BODY, default 1048576).")
    var maxBody: Int?

    @Option(name: .customLong("api-token"), help: "Bearer token for every call under /api (env BATON_API_TOKEN; prefer the variable, arguments show in ps).")
    var token: String?

    @Option(name: .customLong("api-read-token"), help: "Bearer token for reads only, e.g. a front end polling progress (env BATON_API_READ_TOKEN; needs BATON_API_TOKEN too).")
    var readToken: String?

    @Option(name: .customLong("auto-steps"), help: "Sessions created through the API advance steps by themselves (env AUTO_PROGRESS_STEPS, default true).")
    var autoSteps: Bool?

    @Option(name: .customLong("auto-phases"), help: "Sessions created through the API advance phases without a person (env AUTO_PROGRESS_PHASES, default false).")
    var autoPhases: Bool?

    func configuration(defaultPort: Int = 8080) throws -> APIConfiguration {
        let full = setting(token, "BATON_API_TOKEN")
        let read = setting(readToken, "BATON_API_READ_TOKEN")
        if read != nil && full == nil {
            throw CLIError.usage("BATON_API_READ_TOKEN is set but BATON_API_TOKEN is not: calls that change something would need no token; set BATON_API_TOKEN too")
        }
        if let full, full == read {
            throw CLIError.usage("BATON_API_READ_TOKEN must differ from BATON_API_TOKEN, or the read-only token could change things")
        }
        return APIConfiguration(
            host: setting(host, "BATON_API_HOST") ?? "127.0.0.1",
            port: try intSetting(port, "BATON_API_PORT", default: defaultPort),
            maxBodyBytes: try intSetting(maxBody, "BATON_API_MAX_BODY", default: 1 << 20),
            token: full, readToken: read,
            autoSteps: try boolSetting(autoSteps, "AUTO_PROGRESS_STEPS", default: true),
            autoPhases: try boolSetting(autoPhases, "AUTO_PROGRESS_PHASES", default: false))
    }
}

struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api", abstract: "Serve the HTTP API only (no worker) until SIGTERM or SIGINT.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: APIOptions

    func run() async throws {
        try await reportingErrors {
            try await serve(database: database, worker: nil, api: api.configuration())
        }
    }
}

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Run a worker and the HTTP API in one process until SIGTERM or SIGINT.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var worker: WorkerOptions
    @OptionGroup var api: APIOptions

    func run() async throws {
        try await reportingErrors {
            // WORKER_ENABLED=false turns `start` into `api`.
            let enabled = try boolSetting(nil, "WORKER_ENABLED", default: true)
            try await serve(database: database, worker: enabled ? worker : nil, api: api.configuration())
        }
    }
}

/// Runs a worker, the API, or both until SIGTERM/SIGINT, as `ProcessHost` does for any Swift
/// application: the first signal stops gracefully, a second one exits at once. `prepare` runs
/// first, within the host, so a signal during it is handled.
func serve(database: DatabaseOptions, worker options: WorkerOptions?, api: APIConfiguration?,
           defaultHandler: String? = nil, onListening: @escaping @Sendable (Int) async -> Void = { _ in },
           prepare: @escaping @Sendable () async throws -> Void = {}) async throws {
    let worker = try options.map {
        ProcessHost.WorkerSetup(configuration: try $0.configuration(), handlers: try $0.handlers(default: defaultHandler))
    }
    let host = ProcessHost(
        database: try database.databaseSettings(), direct: try database.directSettings(),
        poolSize: try intSetting(database.poolSize, "WORKER_DB_POOL_SIZE", default: 5),
        worker: worker, api: api, prepare: prepare, onAPIListening: onListening)
    try await host.runUntilSignalled()
}
