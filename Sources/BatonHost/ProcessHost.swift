import Baton
import BatonAPI
import CoreMetrics
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import UnixSignals

/// Runs a Baton worker, the HTTP API, or both in this process, the way `baton start`,
/// `baton worker` and `baton api` do, so that a Swift application can embed them.
///
/// As a `Service` (`run()`), it fits into an application's own `ServiceGroup`: it waits for
/// the database if it is unreachable at start, checks that the schema is migrated, runs the
/// services, and on graceful shutdown the API drains first (waiting progress requests are
/// answered at once), then the worker finishes or gives back its steps within
/// `WorkerConfiguration.shutdownGraceMs`. `runUntilSignalled()` is the whole process, as the
/// CLI runs it: SIGTERM/SIGINT start that graceful shutdown, a second signal exits at once.
public struct ProcessHost: Service {
    /// The worker to run: what it claims and which handlers run its steps.
    public struct WorkerSetup: Sendable {
        public var configuration: WorkerConfiguration
        public var handlers: HandlerRegistry

        public init(configuration: WorkerConfiguration = WorkerConfiguration(), handlers: HandlerRegistry) {
            self.configuration = configuration
            self.handlers = handlers
        }
    }

    /// Where the worker's and the API's metrics go.
    public enum Metrics: Sendable {
        /// The process's one Prometheus registry (`ProcessMetrics.shared()`), which also becomes
        /// the global `MetricsSystem` the first time it is used; `/metrics` serves it.
        case processWide
        /// This registry, for an application that set up `MetricsSystem` itself (which can be
        /// done once per process); worker metrics go here and `/metrics` serves it.
        case registry(PrometheusCollectorRegistry)
    }

    /// Why the database cannot be served.
    public enum SchemaError: Error, Sendable, CustomStringConvertible {
        /// No Baton schema at all.
        case missing
        /// The schema is older than this build.
        case outdated(applied: Int, needed: Int)
        /// The database's SQL functions are not this build's (these function files differ).
        case functionsDiffer(files: [String])

        public var description: String {
            switch self {
            case .missing:
                "the database has no Baton schema: run `baton migrate` first"
            case .outdated(let applied, let needed):
                "the database schema is at migration \(applied), this baton needs \(needed): run `baton migrate`"
            case .functionsDiffer(let files):
                "the database's SQL functions differ from this baton's (\(files.count) of its function files: "
                    + files.prefix(5).joined(separator: ", ") + (files.count > 5 ? ", …" : "") + "): run `baton migrate`"
            }
        }
    }

    /// `DATABASE_URL`: connections for queries (may be a transaction pooler).
    public var database: ConnectionSettings
    /// `DIRECT_URL`: LISTEN, the worker's claim connection and its session locks.
    public var direct: ConnectionSettings
    /// The most pooled connections (`WORKER_DB_POOL_SIZE`).
    public var poolSize: Int
    /// The worker, if this process runs one.
    public var worker: WorkerSetup?
    /// The HTTP API, if this process serves it.
    public var api: APIConfiguration?
    public var metrics: Metrics
    public var logger: Logger
    /// Runs first, before the schema check, within the service (a shutdown during it is
    /// honoured): `baton dev` creates and migrates its database here.
    public var prepare: @Sendable () async throws -> Void
    /// Gets the API's port once it listens (useful with port 0).
    public var onAPIListening: @Sendable (Int) async -> Void

    public init(database: ConnectionSettings, direct: ConnectionSettings? = nil, poolSize: Int = 5,
                worker: WorkerSetup? = nil, api: APIConfiguration? = nil, metrics: Metrics = .processWide,
                logger: Logger = Logger(label: "baton"),
                prepare: @escaping @Sendable () async throws -> Void = {},
                onAPIListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.database = database
        self.direct = direct ?? database
        self.poolSize = max(1, poolSize)
        self.worker = worker
        self.api = api
        self.metrics = metrics
        self.logger = logger
        self.prepare = prepare
        self.onAPIListening = onAPIListening
    }

    /// Runs the worker and/or the API until a graceful shutdown (or cancellation) of the task.
    /// Throws `SchemaError` when the database is not migrated, and the database's error when it
    /// refuses the login (an unreachable database is waited for).
    public func run() async throws {
        let pool = ConnectionPool(settings: database, maxConnections: poolSize)
        do {
            try await runServices(pool)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
    }

    /// Runs as the process's main work until SIGTERM or SIGINT, which start the graceful
    /// shutdown; a second signal means "now": the process exits at once with 128 + the signal,
    /// leaving unfinished steps to the rescuer (command handlers die with the process).
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: self)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger))
        let escalation = Task { [logger] in await Self.exitOnSecondSignal(logger: logger) }
        defer { escalation.cancel() }
        try await group.run()
    }

    private func runServices(_ pool: ConnectionPool) async throws {
        try await prepare()
        if Task.isShuttingDownGracefully { return }
        guard try await awaitSchema(pool) else { return }
        let services = makeServices(pool)
        if services.isEmpty {
            logger.warning("nothing to run: give the host a worker, an API, or both")
            return
        }
        if services.count == 1 {
            try await services[0].run()
            return
        }
        // Graceful shutdown reaches the services in reverse order: the API drains first, then the worker.
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
        try await group.run()
    }

    private func makeServices(_ pool: ConnectionPool) -> [any Service] {
        let registry: PrometheusCollectorRegistry
        let factory: any MetricsFactory
        switch metrics {
        case .processWide:
            (registry, factory) = ProcessMetrics.shared()
        case .registry(let given):
            (registry, factory) = (given, ProcessMetrics.factory(for: given))
        }
        var services: [any Service] = []
        if let worker {
            services.append(Worker(
                configuration: worker.configuration, handlers: worker.handlers, direct: direct, pool: pool,
                metrics: WorkerMetrics(factory: factory), logger: logger))
        }
        if let api {
            let server = APIServer(configuration: api, pool: pool, direct: direct, registry: registry, logger: logger)
            services.append(server.application(onListening: onAPIListening))
        }
        return services
    }

    /// Checks the schema; while PostgreSQL is down (or restarting) waits for it. False when a
    /// shutdown came first.
    private func awaitSchema(_ pool: ConnectionPool) async throws -> Bool {
        var backoff = ReconnectBackoff()
        while true {
            do {
                try await Self.requireSchema(pool)
                return true
            } catch let error as DatabaseError where error.isUnreachable {
                let delay = backoff.next()
                logger.warning("database unreachable at start; waiting for it",
                               metadata: ["error": "\(error)", "retry_in_ms": "\(delay)"])
                try? await Task.sleep(for: .milliseconds(delay))
                if Task.isShuttingDownGracefully || Task.isCancelled { return false }
            }
        }
    }

    /// Fails with `SchemaError` when the database has no Baton schema, an older one than this
    /// build carries, or SQL functions that are not this build's. A newer schema (a newer baton
    /// migrated it) is served.
    public static func requireSchema(_ pool: ConnectionPool) async throws {
        switch try await Migrator().schemaState(pool) {
        case .missing: throw SchemaError.missing
        case .behind(let applied, let needed): throw SchemaError.outdated(applied: applied, needed: needed)
        case .functionsDiffer(let files): throw SchemaError.functionsDiffer(files: files)
        case .current, .newer: return
        }
    }

    /// The first SIGTERM/SIGINT is the service group's (graceful); the second exits.
    private static func exitOnSecondSignal(logger: Logger) async {
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
}
