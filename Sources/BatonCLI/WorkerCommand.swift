import ArgumentParser
import Baton
import Foundation
import Logging
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run a worker until SIGTERM or SIGINT (graceful: running steps finish first).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var worker: WorkerOptions

    func run() async throws {
        try await reportingErrors {
            try await runWorker(database: database, options: worker)
        }
    }
}

/// Builds a worker from the options and runs it under a service group that stops gracefully on
/// SIGTERM/SIGINT. `prepare` runs first, inside the group, so a signal during it is handled too.
func runWorker(database: DatabaseOptions, options: WorkerOptions, defaultHandler: String? = nil,
               prepare: @escaping @Sendable () async throws -> Void = {}) async throws {
    let logger = Logger(label: "baton")
    let pool = try database.makePool()
    let worker = Worker(
        configuration: try options.configuration(), handlers: try options.handlers(default: defaultHandler),
        direct: try database.directSettings(), pool: pool, logger: logger)
    let service = PreparedWorker(prepare: prepare, pool: pool, worker: worker)
    let group = ServiceGroup(configuration: .init(
        services: [.init(service: service)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        cancellationSignals: [],
        logger: logger))
    try await group.run()
    await pool.close()
}

/// Runs the preparation, checks the schema, then the worker.
struct PreparedWorker: Service {
    let prepare: @Sendable () async throws -> Void
    let pool: ConnectionPool
    let worker: Worker

    func run() async throws {
        try await prepare()
        if Task.isShuttingDownGracefully { return }
        try await requireSchema(pool)
        try await worker.run()
    }
}

/// Fails with a clear message when the database has no Baton schema, or an older one than
/// this binary carries.
func requireSchema(_ pool: ConnectionPool) async throws {
    guard let version = try await Migrator.appliedVersion(pool) else {
        throw CLIError.usage("the database has no Baton schema: run `baton migrate` first")
    }
    if let newest = Migration.all.last?.version, version < newest {
        throw CLIError.usage("the database schema is at migration \(version), this baton needs \(newest): run `baton migrate`")
    }
}
