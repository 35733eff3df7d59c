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

/// Fails with a clear message when the database has no Baton schema, an older one than this
/// binary carries, or SQL functions that are not this binary's.
func requireSchema(_ pool: ConnectionPool) async throws {
    switch try await Migrator().schemaState(pool) {
    case .missing:
        throw CLIError.usage("the database has no Baton schema: run `baton migrate` first")
    case .behind(let applied, let needed):
        throw CLIError.usage("the database schema is at migration \(applied), this baton needs \(needed): run `baton migrate`")
    case .functionsDiffer(let files):
        let shown = files.prefix(5).joined(separator: ", ") + (files.count > 5 ? ", …" : "")
        throw CLIError.usage("the database's SQL functions differ from this baton's (\(files.count) of its function files: \(shown)): run `baton migrate`")
    case .current, .newer:
        return
    }
}
