import ArgumentParser
import Baton
import BatonAPI
import CoreMetrics
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// How the HTTP API runs (every option also an environment variable).
struct APIOptions: ParsableArguments {
    @Option(help: "Address to listen on (env BATON_API_HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env BATON_API_PORT, default 8080).")
    var port: Int?

    @Option(name: .customLong("max-body"), help: "Largest request body in bytes (env BATON_API_MAX_BODY, default 1048576).")
    var maxBody: Int?

    @Option(name: .customLong("api-token"), help: "Bearer token for mutating calls (env BATON_API_TOKEN; prefer the variable, arguments show in ps).")
    var token: String?

    @Option(name: .customLong("auto-steps"), help: "Sessions created through the API advance steps by themselves (env AUTO_PROGRESS_STEPS, default true).")
    var autoSteps: Bool?

    @Option(name: .customLong("auto-phases"), help: "Sessions created through the API advance phases without a person (env AUTO_PROGRESS_PHASES, default false).")
    var autoPhases: Bool?

    func configuration(defaultPort: Int = 8080) throws -> APIConfiguration {
        APIConfiguration(
            host: setting(host, "BATON_API_HOST") ?? "127.0.0.1",
            port: try intSetting(port, "BATON_API_PORT", default: defaultPort),
            maxBodyBytes: try intSetting(maxBody, "BATON_API_MAX_BODY", default: 1 << 20),
            token: setting(token, "BATON_API_TOKEN"),
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

/// The one Prometheus registry of this process: worker metrics, HTTP metrics (through the
/// global MetricsSystem) and the API's scrape-time gauges all land in it.
enum ProcessMetrics {
    private static let bootstrapped = Mutex<(PrometheusCollectorRegistry, PrometheusMetricsFactory)?>(nil)

    static func shared() -> (registry: PrometheusCollectorRegistry, factory: PrometheusMetricsFactory) {
        bootstrapped.withLock { current in
            if let current { return current }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            // Steps run from milliseconds (echo) to minutes (slow services).
            factory.defaultDurationHistogramBuckets = [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
            ]
            MetricsSystem.bootstrap(factory)
            current = (registry, factory)
            return (registry, factory)
        }
    }
}

/// Runs a worker, the API, or both, under one service group that stops gracefully on
/// SIGTERM/SIGINT: the API stops accepting and answers what is in flight (waiting progress
/// requests are answered at once), the worker finishes or gives back its steps within
/// BATON_SHUTDOWN_GRACE. `prepare` runs first, inside the group, so a signal during it is handled.
func serve(database: DatabaseOptions, worker options: WorkerOptions?, api: APIConfiguration?,
           defaultHandler: String? = nil, onListening: @escaping @Sendable (Int) async -> Void = { _ in },
           prepare: @escaping @Sendable () async throws -> Void = {}) async throws {
    let logger = Logger(label: "baton")
    let pool = try database.makePool()
    let metrics = ProcessMetrics.shared()
    var services: [any Service] = []
    if let options {
        services.append(Worker(
            configuration: try options.configuration(), handlers: try options.handlers(default: defaultHandler),
            direct: try database.directSettings(), pool: pool, metrics: WorkerMetrics(factory: metrics.factory),
            logger: logger))
    }
    if let api {
        let server = APIServer(configuration: api, pool: pool, direct: try database.directSettings(),
                               registry: metrics.registry, logger: logger)
        services.append(server.application(onListening: onListening))
    }
    let group = ServiceGroup(configuration: .init(
        services: [.init(service: Prepared(prepare: prepare, pool: pool, services: services, logger: logger))],
        gracefulShutdownSignals: [.sigterm, .sigint],
        cancellationSignals: [],
        logger: logger))
    let escalation = Task { await exitOnSecondSignal(logger: logger) }
    defer { escalation.cancel() }
    try await group.run()
    await pool.close()
}

/// The first SIGTERM/SIGINT starts a graceful shutdown (the service group's own handler); a
/// second one means "now": exit at once with 128 + the signal. Steps still running are left
/// to the rescuer, and command handlers die with the process (PR_SET_PDEATHSIG).
private func exitOnSecondSignal(logger: Logger) async {
    var seen = 0
    for await signal in await UnixSignalsSequence(trapping: [.sigterm, .sigint]) {
        seen += 1
        if seen >= 2 {
            logger.warning("second signal during shutdown: exiting now; unfinished steps go to the rescuer",
                           metadata: ["signal": "\(signal)"])
            exit(128 + signal.rawValue)
        }
    }
}

/// Runs the preparation, checks the schema, then the services. Graceful shutdown reaches the
/// inner group in reverse order: the API drains first, then the worker.
struct Prepared: Service {
    let prepare: @Sendable () async throws -> Void
    let pool: ConnectionPool
    let services: [any Service]
    let logger: Logger

    func run() async throws {
        try await prepare()
        if Task.isShuttingDownGracefully { return }
        // A server or worker started while PostgreSQL is down (or restarting) waits for it.
        var backoff = ReconnectBackoff()
        while true {
            do {
                try await requireSchema(pool)
                break
            } catch let error as DatabaseError where error.isUnreachable {
                let delay = backoff.next()
                logger.warning("database unreachable at start; waiting for it",
                               metadata: ["error": "\(error)", "retry_in_ms": "\(delay)"])
                try? await Task.sleep(for: .milliseconds(delay))
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
            }
        }
        if services.count == 1 {
            try await services[0].run()
            return
        }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
        try await group.run()
    }
}
