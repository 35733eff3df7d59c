import ArgumentParser
import Baton
import BatonAPI
import Foundation
import Logging

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run Baton locally: a private PostgreSQL under .baton/, migrated, with a worker, the API and builtin:echo.",
        discussion: "Ctrl-C stops the worker and PostgreSQL; the data stays in .baton/ for the next run.")

    @Option(help: "Folder for the private cluster.") var dir: String = ".baton"
    @Option(help: "Port of the private PostgreSQL.") var port: Int = 54329
    @Option(name: .customLong("api-port"), help: "Port of the HTTP API and dashboard; 0 picks a free one.") var apiPort: Int = 8080
    @OptionGroup var worker: WorkerOptions

    func run() async throws {
        try await reportingErrors {
            var directory = URL(fileURLWithPath: dir).standardizedFileURL
            if !(await LocalPostgres.postgresCanEnter(directory)) {
                let fallback = URL(fileURLWithPath: "/var/tmp/baton-dev-\(Self.fingerprint(directory.path))")
                say("the postgres user, which runs the server, cannot enter \(directory.path) (a parent folder is "
                    + "closed to other users), so the cluster lives in \(fallback.path); --dir picks another folder")
                directory = fallback
            }
            let postgres = LocalPostgres(directory: directory, port: port)
            try await postgres.start()
            do {
                try await serveDev(postgres)
            } catch {
                await stop(postgres)
                throw error
            }
            await stop(postgres)
        }
    }

    /// Creates and migrates the database, prints how to use it, and runs the worker until Ctrl-C.
    private func serveDev(_ postgres: LocalPostgres) async throws {
        let database = try DatabaseOptions.parse(["--database-url", postgres.url])
        let port = self.port
        let handlerName = setting(worker.handler, "BATON_HANDLER") ?? "builtin:echo"
        let api = APIConfiguration(host: "127.0.0.1", port: apiPort, token: setting(nil, "BATON_API_TOKEN"),
                                   readToken: setting(nil, "BATON_API_READ_TOKEN"))
        try await serve(database: database, worker: worker, api: api, defaultHandler: "builtin:echo", onListening: { port in
            say("""
                API and dashboard: http://127.0.0.1:\(port)/   (OpenAPI: http://127.0.0.1:\(port)/openapi.json)
                  curl -s -X POST http://127.0.0.1:\(port)/api/sessions -d '{"phases": 2, "input": {"hello": "api"}}'
                  curl -s 'http://127.0.0.1:\(port)/api/sessions/<id>/progress?wait=30&since=<version>'

                """)
        }) {
            let admin = DatabaseConnection(settings: try ConnectionSettings(postgres.adminURL), label: "dev", preparedStatements: false)
            if try await admin.query("SELECT 1 FROM pg_database WHERE datname = 'baton'").isEmpty {
                try await admin.query("CREATE DATABASE baton")
            }
            await admin.close()
            let connection = DatabaseConnection(settings: try ConnectionSettings(postgres.url), label: "dev", preparedStatements: false)
            // The banner says how many migrations were new; a first start lists no 80 file names.
            var quiet = Logger(label: "baton.migrate")
            quiet.logLevel = .warning
            let report = try await Migrator(logger: quiet).migrate(connection)
            await connection.close()
            say("""

                Baton dev is running: PostgreSQL on 127.0.0.1:\(port), schema migrated (\(report.applied.count) new), worker with \(handlerName).

                In another terminal:
                  export DATABASE_URL=\(postgres.url)
                  alias baton=\(Self.executablePath())
                  id=$(baton session create --phases 2 --input '{"hello": "world"}')
                  baton progress --watch $id   # follows it; it stops at the gate after phase 1
                  baton advance $id --note 'looks good'   # past the gate into phase 2
                  baton session show $id       # steps, results, attempts, the review
                  psql "$DATABASE_URL" -c "SELECT id FROM baton.create_session(2, '{\\"from\\": \\"psql\\"}')"
                  psql "$DATABASE_URL" -c "SELECT baton.progress('<id>')"

                Ctrl-C stops everything.

                """)
        }
    }

    /// A short, stable name for a folder path (FNV-1a), so each checkout keeps its own cluster.
    static func fingerprint(_ path: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }

    /// This binary's absolute path, for the banner's alias: nothing puts `baton` on the PATH.
    static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    private func stop(_ postgres: LocalPostgres) async {
        say("stopping PostgreSQL (data kept in \(postgres.dataDirectory.path))")
        await postgres.stop()
    }
}
