import Baton
import Foundation

/// A private PostgreSQL cluster in a folder (for `baton dev`, and `baton bench` through
/// `ScratchPostgres`): created with initdb on first use, reused afterwards, with PostgreSQL's
/// default settings. When run as root, the server runs as the `postgres` OS user (initdb
/// refuses root).
struct LocalPostgres {
    let directory: URL
    let port: Int
    /// Says on stdout what it does (`baton dev`); the bench keeps stdout for its report.
    var announces = true

    var dataDirectory: URL { directory.appending(path: "pgdata") }
    var socketDirectory: URL { directory.appending(path: "run") }
    var logFile: URL { directory.appending(path: "postgres.log") }
    var url: String { "postgresql://postgres@127.0.0.1:\(port)/baton" }
    var adminURL: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    private var runAsPostgres: Bool { getuid() == 0 }

    /// Debian keeps the server programs in /usr/lib/postgresql/<version>/bin.
    static func binDirectory() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let newest = versions.compactMap(Int.init).sorted().last
        if let newest {
            let bin = root.appending(path: "\(newest)/bin")
            if FileManager.default.isExecutableFile(atPath: bin.appending(path: "initdb").path) { return bin }
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(dir)/initdb") {
            return URL(fileURLWithPath: String(dir))
        }
        throw CLIError.usage("PostgreSQL server programs (initdb, pg_ctl) were not found; install them with `apt-get install -y postgresql` (scripts/dev does)")
    }

    /// False when run as root and the `postgres` OS user, which runs the server, cannot enter
    /// `directory` (created first): a parent folder closed to other users, such as root's
    /// home or a `mktemp -d` folder, makes initdb fail with "Permission denied".
    static func postgresCanEnter(_ directory: URL) async -> Bool {
        guard getuid() == 0 else { return true }
        guard (try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)) != nil else { return false }
        let argv = ["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/bin/test", "-x", directory.path]
        let probe = NSTemporaryDirectory() + "baton-dev-probe-\(getpid()).out"
        defer { try? FileManager.default.removeItem(atPath: probe) }
        return (try? await ProgramRunner.run(argv, outputPath: probe))?.0 == 0
    }

    /// Creates the cluster if needed and starts it if it is not running.
    func start() async throws {
        let fm = FileManager.default
        let bin = try Self.binDirectory()
        try fm.createDirectory(at: socketDirectory, withIntermediateDirectories: true)
        if runAsPostgres {
            try await run("/bin/chown", ["-R", "postgres:postgres", directory.path], asPostgres: false)
        }
        if !fm.fileExists(atPath: dataDirectory.appending(path: "PG_VERSION").path) {
            if announces { say("creating a PostgreSQL cluster in \(dataDirectory.path)") }
            try await run(bin.appending(path: "initdb").path,
                    ["-D", dataDirectory.path, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-instructions"])
        }
        if (try? await run(bin.appending(path: "pg_ctl").path, ["-D", dataDirectory.path, "status"], quiet: true)) != nil {
            if announces { say("PostgreSQL already running in \(dataDirectory.path)") }
            return
        }
        try await run(bin.appending(path: "pg_ctl").path, [
            "-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60",
            "-o", "-p \(port) -k \(socketDirectory.path) -c listen_addresses=127.0.0.1", "start",
        ])
    }

    func stop() async {
        guard let bin = try? Self.binDirectory() else { return }
        _ = try? await run(bin.appending(path: "pg_ctl").path, ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"], quiet: true)
    }

    @discardableResult
    private func run(_ program: String, _ arguments: [String], asPostgres: Bool? = nil, quiet: Bool = false) async throws -> String {
        let argv = (asPostgres ?? runAsPostgres) ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] + arguments
                                                 : [program] + arguments
        let name = URL(fileURLWithPath: program).lastPathComponent
        let (status, output) = try await ProgramRunner.run(argv, outputPath: directory.appending(path: "\(name).out").path)
        guard status == 0 else {
            if !quiet { FileHandle.standardError.write(Data(output.utf8)) }
            throw CLIError.usage("\(name) failed (exit \(status)); see \(logFile.path)")
        }
        return output
    }
}
