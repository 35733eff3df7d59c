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
            try await serve(database: database, worker: worker, api: nil)
        }
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
