import Baton
import Foundation
import Testing

/// `baton dev`, the README's first command: a private PostgreSQL, migrated, with a worker.
@Suite struct DevCommandTests {
    @Test func devRunsSessionsStopsOnCtrlCAndKeepsItsData() async throws {
        let dir = NSTemporaryDirectory() + "baton-dev-\(UUID().uuidString)"
        let port = try freePort()
        let url = "postgresql://postgres@127.0.0.1:\(port)/baton"
        defer { try? FileManager.default.removeItem(atPath: dir) }

        /// Runs `body` with a started `baton dev`, and always stops it with Ctrl-C afterwards
        /// (a SIGKILL would leave its PostgreSQL running); returns its exit status and output.
        func withDev(_ extra: [String] = [], _ body: (HTTPTestClient) async throws -> Void) async throws -> (status: Int32, output: String) {
            let dev = try BatonProcess(["dev", "--dir", dir, "--port", String(port), "--api-port", "0"] + extra,
                                       environment: ["BATON_LOG_LEVEL": "warning"])
            do {
                try await waitForOutput(dev, "(OpenAPI: ")
                let announced = try #require(dev.output.range(of: #"API and dashboard: http://127\.0\.0\.1:\d+"#, options: .regularExpression))
                let base = String(dev.output[announced].dropFirst("API and dashboard: ".count))
                try await body(HTTPTestClient(base: base, client: testHTTPClient))
            } catch {
                dev.kill(SIGINT)
                _ = await dev.waitForExit()
                throw error
            }
            dev.kill(SIGINT)
            return (await dev.waitForExit(), dev.output)
        }

        let db = try ExistingDatabase(url: url)
        let first = try await withDev { http in
            let created = try await runBaton(["session", "create", "--id", "dev-1", "--input", "{\"x\": 1}"], environment: ["DATABASE_URL": url])
            #expect(created.status == 0, "\(created.output)")
            try await db.awaitStatus("dev-1", .completed)
            // The API and the dashboard are served too.
            let viaAPI = try await http.post("/api/sessions", #"{"phases": 1, "id": "dev-api"}"#)
            #expect(viaAPI.status == 201, "\(viaAPI.body)")
            try await db.awaitStatus("dev-api", .completed)
            #expect(try await http.get("/").status == 200)
        }
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("creating a PostgreSQL cluster"))
        #expect(first.output.contains("stopping PostgreSQL"))
        #expect(try await runBaton(["health"], environment: ["DATABASE_URL": url]).status == 6, "PostgreSQL stopped with it")

        // The banner's commands work as printed: the alias names this binary.
        let alias = try #require(first.output.firstMatch(of: /alias baton=(\S+)/)?.1)
        #expect(FileManager.default.isExecutableFile(atPath: String(alias)), "\(first.output)")

        // The quick start's own handler: `baton dev --handler command:./step.sh`.
        let quickstart = TestEnvironment.repository + "/examples/handlers/quickstart/step.sh"
        let second = try await withDev(["--handler", "command:" + quickstart]) { _ in
            let status = try await db.status("dev-1")
            #expect(status == "COMPLETED", "the data was kept")
            let created = try await runBaton(["session", "create", "--id", "dev-2"], environment: ["DATABASE_URL": url])
            #expect(created.status == 0, "\(created.output)")
            try await db.awaitStatus("dev-2", .completed)
            let shown = try await runBaton(["session", "show", "dev-2", "--json"], environment: ["DATABASE_URL": url])
            #expect(shown.output.contains(#""did" : "INTEGRATE""#) || shown.output.contains(#""did":"INTEGRATE""#), "\(shown.output)")
        }
        #expect(second.status == 0, "\(second.output)")
        #expect(!second.output.contains("creating a PostgreSQL cluster"), "the cluster was reused")
    }

    @Test("as root, a folder the postgres user cannot enter moves the cluster to /var/tmp and says so", .enabled(if: getuid() == 0))
    func closedFolderFallsBack() async throws {
        let closed = NSTemporaryDirectory() + "baton-closed-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: closed, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: closed) }
        let dev = try BatonProcess(["dev", "--dir", closed + "/.baton", "--port", String(try freePort()), "--api-port", "0"],
                                   environment: ["BATON_LOG_LEVEL": "warning"])
        try await waitForOutput(dev, "(OpenAPI: ")
        dev.kill(SIGINT)
        #expect(await dev.waitForExit() == 0, "\(dev.output)")
        let moved = try #require(dev.output.firstMatch(of: /cluster lives in (\/var\/tmp\/baton-dev-[0-9a-f]+)/)?.1, "\(dev.output)")
        #expect(dev.output.contains("cannot enter \(closed)/.baton"), "\(dev.output)")
        try? FileManager.default.removeItem(atPath: String(moved))
    }

    /// Waits for a line in a process's output (the process announces readiness on stdout).
    func waitForOutput(_ process: BatonProcess, _ text: String) async throws {
        let deadline = Date().addingTimeInterval(120)
        while !process.output.contains(text) {
            guard process.isRunning, Date() < deadline else {
                throw TestFailure("baton dev did not start: \(process.output)")
            }
            try await Task.sleep(for: .milliseconds(100))  // allowed: polling a child's log file, which has no notification
        }
    }
}

/// A database that something else created (no migration, no creation).
struct ExistingDatabase {
    let db: TestDatabase
    init(url: String) throws { db = try TestDatabase.attach(url: url) }
    func awaitStatus(_ id: String, _ status: SessionStatus) async throws { try await db.awaitStatus(id, status) }
    func status(_ id: String) async throws -> String? { try await db.status(id) }
}

/// A TCP port that nothing listens on now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestFailure("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
