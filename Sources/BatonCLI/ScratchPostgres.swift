import Baton
import Foundation

/// A throw-away PostgreSQL for `baton bench`: a new cluster in a temporary folder on a free
/// port, with PostgreSQL's default settings (fsync and synchronous_commit on, as users run it),
/// a `baton` database, and everything removed by `remove()`.
struct ScratchPostgres {
    let cluster: LocalPostgres

    var url: String { cluster.url }

    /// Creates and starts the cluster and its `baton` database.
    static func start() async throws -> ScratchPostgres {
        let template = NSTemporaryDirectory() + "baton-bench.XXXXXX"
        var path = Array(template.utf8CString)
        guard let made = mkdtemp(&path) else {
            throw CLIError.usage("cannot create a temporary folder for the private PostgreSQL: \(String(cString: strerror(errno)))")
        }
        let directory = URL(fileURLWithPath: String(cString: made))
        let scratch = ScratchPostgres(cluster: LocalPostgres(directory: directory, port: try freeLocalPort(), announces: false))
        do {
            try await scratch.cluster.start()
            let admin = DatabaseConnection(settings: try ConnectionSettings(scratch.cluster.adminURL), label: "bench-admin", preparedStatements: false)
            do {
                try await admin.query("CREATE DATABASE baton")
            } catch {
                await admin.close()
                throw error
            }
            await admin.close()
        } catch {
            await scratch.remove()
            throw error
        }
        return scratch
    }

    /// Stops the server and deletes its folder.
    func remove() async {
        await cluster.stop()
        try? FileManager.default.removeItem(at: cluster.directory)
    }

    /// `SHOW` values that decide what the figures mean, for the report.
    static func settings(_ pool: ConnectionPool) async throws -> [String: String] {
        let rows = try await pool.query("""
            SELECT name, setting || coalesce(unit, '') AS value FROM pg_settings
            WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers',
                           'max_wal_size', 'checkpoint_timeout', 'autovacuum', 'autovacuum_naptime', 'wal_level')
            """)
        var settings: [String: String] = [:]
        for row in rows.records { settings[row["name"] ?? ""] = row["value"] ?? "" }
        return settings
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel picks it).
func freeLocalPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CLIError.usage("cannot open a socket to find a free port") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw CLIError.usage("no free port on 127.0.0.1 for the private PostgreSQL") }
    return Int(UInt16(bigEndian: address.sin_port))
}
