import Baton
import BatonTesting
import Foundation
import Testing

/// Where the test script's PostgreSQL is (scripts/test sets these).
enum TestEnvironment {
    /// A variable scripts/test sets; without it the tests cannot run.
    private static func required(_ name: String, startedBy what: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name] else {
            throw TestFailure("\(name) is not set: run the tests with scripts/test, which starts \(what)")
        }
        return value
    }

    static var adminURL: String { get throws { try required("BATON_TEST_ADMIN_URL", startedBy: "PostgreSQL") } }
    static var port: String { ProcessInfo.processInfo.environment["BATON_TEST_PORT"] ?? "5432" }
    /// PgBouncer (transaction pooling) in front of the main cluster.
    static var poolerPort: String { get throws { try required("BATON_TEST_POOLER_PORT", startedBy: "PgBouncer") } }
    /// The second cluster, which outage tests stop and start with `faultControl`.
    static var faultAdminURL: String {
        get throws { try required("BATON_TEST_FAULT_ADMIN_URL", startedBy: "a second PostgreSQL for outage tests") }
    }
    static var faultControl: String { ProcessInfo.processInfo.environment["BATON_TEST_FAULT_CTL"] ?? "" }
    /// A Python with the examples' packages (scripts/test prepares .venv-examples).
    static var python: String { get throws { try required("BATON_TEST_PYTHON", startedBy: "the examples' Python in .venv-examples") } }
    /// The repository's root (the tests read examples/ from it).
    static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }
    static var batonBinary: String { ProcessInfo.processInfo.environment["BATON_BIN"] ?? ".build/debug/baton" }
    static var handlerBinary: String { ProcessInfo.processInfo.environment["BATON_TEST_HANDLER"] ?? ".build/debug/BatonTestHandler" }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// How a test's queries reach PostgreSQL: straight, or `DATABASE_URL` through PgBouncer in
/// transaction pooling mode with `DIRECT_URL` straight (LISTEN and session locks).
enum DatabaseRoute: String, Sendable, CaseIterable, CustomStringConvertible {
    case direct, pgbouncer
    var description: String { rawValue }
}

/// A fresh database per test, migrated, with a pool and a client.
final class TestDatabase: Sendable {
    let name: String
    /// `DATABASE_URL`: through the pooler on the pgbouncer route.
    let url: String
    /// `DIRECT_URL`.
    let directURL: String
    /// For the pool (`url`).
    let settings: ConnectionSettings
    /// For LISTEN, a worker's claim connection and anything holding session state.
    let directSettings: ConnectionSettings
    let pool: ConnectionPool
    let client: BatonClient

    private init(name: String, url: String, directURL: String? = nil) throws {
        self.name = name
        self.url = url
        self.directURL = directURL ?? url
        self.settings = try ConnectionSettings(url, applicationName: "baton-test")
        self.directSettings = try ConnectionSettings(self.directURL, applicationName: "baton-test")
        self.pool = ConnectionPool(settings: settings, maxConnections: 4)
        self.client = BatonClient(pool: pool)
    }

    /// Uses a database that exists already.
    static func attach(url: String) throws -> TestDatabase {
        try TestDatabase(name: "", url: url)
    }

    /// The environment a `baton` process needs for this database.
    var environment: [String: String] { ["DATABASE_URL": url, "DIRECT_URL": directURL] }

    /// Creates an empty database (BatonTesting's throwaway database); `migrated` applies
    /// Baton's schema. `faultCluster` puts it on the cluster that outage tests stop and start.
    static func create(migrated: Bool = true, route: DatabaseRoute = .direct, faultCluster: Bool = false) async throws -> TestDatabase {
        let adminURL = faultCluster ? try TestEnvironment.faultAdminURL : try TestEnvironment.adminURL
        var poolURL: (@Sendable (String) throws -> String)?
        if route == .pgbouncer {
            let port = TestEnvironment.port
            let poolerPort = try TestEnvironment.poolerPort
            poolURL = { direct in
                let pooled = direct.replacingOccurrences(of: ":\(port)/", with: ":\(poolerPort)/")
                guard pooled != direct else { throw TestFailure("cannot route \(direct) through PgBouncer") }
                return pooled
            }
        }
        let kit = try await BatonTestDatabase.throwaway(adminURL: adminURL, migrate: migrated, poolURL: poolURL)
        return try TestDatabase(name: kit.name, url: kit.url, directURL: kit.directURL)
    }

    @discardableResult
    func query(_ sql: String, _ parameters: [String?] = []) async throws -> QueryResult {
        try await pool.query(sql, parameters)
    }

    func scalar(_ sql: String, _ parameters: [String?] = []) async throws -> String? {
        try await query(sql, parameters).rows.first?.first ?? nil
    }

    func status(_ sessionID: String) async throws -> String? {
        try await scalar("SELECT status FROM baton.sessions WHERE id = $1", [sessionID])
    }

    /// Waits until `check` holds, re-checking whenever Baton notifies (and at least every
    /// second, for conditions no notification announces). Fails after `timeout` seconds.
    func awaitCondition(_ what: String, timeout: Double = 60,
                        _ check: @Sendable () async throws -> Bool) async throws {
        let listener = DatabaseConnection(settings: directSettings, label: "test-listener", preparedStatements: false)
        try await listener.listen([NotificationListener.sessionChannel, NotificationListener.taskChannel])
        let wake = WakeSignal()
        let deadline = Date().addingTimeInterval(timeout)
        defer { Task { await listener.close() } }
        while true {
            if try await check() { return }
            guard Date() < deadline else { throw TestFailure("timed out after \(timeout) s waiting for \(what)") }
            _ = try await listener.waitForNotifications(timeoutMs: 1000, wake: wake)
        }
    }

    /// Waits for the session to reach `status`, driven by LISTEN (BatonTesting's
    /// `StatusWaiter`); fails early if it reaches another settled state (COMPLETED, FAILED,
    /// CANCELLED), naming the statuses it saw and the session's steps.
    func awaitStatus(_ sessionID: String, _ status: SessionStatus, timeout: Double = 60) async throws {
        try await StatusWaiter(settings: directSettings)
            .waitForStatus(sessionID, status, timeout: .milliseconds(Int(timeout * 1000)))
    }

    /// Creates a session through the SQL API (as any client would); returns its id.
    func createSession(phases: Int = 1, input: String = "{}", kind: String = "default",
                       autoSteps: Bool = true, autoPhases: Bool = false) async throws -> String {
        let id = try await scalar(
            "SELECT id FROM baton.create_session($1::int, $2::jsonb, NULL, $3, $4::boolean, $5::boolean)",
            [String(phases), input, kind, autoSteps ? "t" : "f", autoPhases ? "t" : "f"])
        return try #require(id)
    }
}
