import Baton
import Foundation
import Logging

/// A database for an application's tests, with Baton's schema: either a throwaway one that
/// this kit creates on a server you name (and drops when asked), or one you give it.
///
/// ```swift
/// let db = try await BatonTestDatabase.throwaway(adminURL: "postgresql://postgres@127.0.0.1:5432/postgres")
/// defer { Task { try await db.drop() } }   // or use `withThrowaway`
/// let session = try await db.client.createSession(phases: 1, inputJSON: #"{"id": 7}"#)
/// try await db.waitForStatus(session.id, .completed)
/// ```
///
/// Everything it reports names the server as `user@host:port/database`, never the URL itself
/// (which may hold a password).
public final class BatonTestDatabase: Sendable {
    /// The database's name.
    public let name: String
    /// The URL the pool uses (`DATABASE_URL` for a `baton` process); may be a transaction pooler.
    public let url: String
    /// A URL straight to PostgreSQL (`DIRECT_URL`): LISTEN and session locks need it.
    public let directURL: String
    /// Settings for `url`.
    public let settings: ConnectionSettings
    /// Settings for `directURL`: what a worker's claim connection and `waitForStatus` use.
    public let directSettings: ConnectionSettings
    /// A small pool over `url`.
    public let pool: ConnectionPool
    /// Baton's client over `pool`: create, proceed, retry, cancel, read sessions.
    public let client: BatonClient
    /// Set for a throwaway database: the server it was created on, which drops it.
    private let adminURL: String?

    private init(name: String, url: String, directURL: String, adminURL: String?) throws {
        self.name = name
        self.url = url
        self.directURL = directURL
        self.adminURL = adminURL
        settings = try ConnectionSettings(url, applicationName: "baton-testing")
        directSettings = try ConnectionSettings(directURL, applicationName: "baton-testing")
        pool = ConnectionPool(settings: settings, maxConnections: 4, label: "baton-testing")
        client = BatonClient(pool: pool)
    }

    /// The environment a `baton` process (worker, API) needs to use this database.
    public var environment: [String: String] { ["DATABASE_URL": url, "DIRECT_URL": directURL] }

    /// Whether `drop()` removes the database (it was created by `throwaway`).
    public var isThrowaway: Bool { adminURL != nil }

    /// Creates a uniquely named database on the server `adminURL` reaches (any database there,
    /// typically `postgresql://postgres@127.0.0.1:5432/postgres`, with a role that may create
    /// databases), and applies Baton's migrations to it unless `migrate` is false. The new
    /// database is reached with the admin URL's user, password, host and parameters.
    ///
    /// - Parameters:
    ///   - namePrefix: lower-case letters, digits and `_`, at most 40 characters; a random
    ///     suffix follows it, so parallel tests never share a database.
    ///   - poolURL: how the pool should reach the new database when not straight (for
    ///     example through PgBouncer): given the direct URL, returns the pooled one.
    public static func throwaway(
        adminURL: String, namePrefix: String = "baton_test", migrate: Bool = true,
        poolURL: (@Sendable (String) throws -> String)? = nil,
        logger: Logger = BatonTestDatabase.quietLogger
    ) async throws -> BatonTestDatabase {
        guard DatabaseURL.isPlainPrefix(namePrefix) else {
            throw BatonTestingError("the database name prefix '\(namePrefix)' is not usable: use lower-case letters, digits and _ (starting with a letter or _), at most 40 characters")
        }
        let adminSettings = try ConnectionSettings(adminURL, applicationName: "baton-testing-admin")
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let name = namePrefix + "_" + suffix
        let admin = DatabaseConnection(settings: adminSettings, label: "testing-admin", preparedStatements: false)
        do {
            try await admin.query("CREATE DATABASE \(name)")
        } catch {
            await admin.close()
            throw BatonTestingError("could not create a test database on \(adminSettings.safeDescription): \(error). The admin URL must reach a running server as a role with CREATEDB (or a superuser).")
        }
        await admin.close()
        let direct = DatabaseURL.replacingDatabase(in: adminURL, with: name)
        let database: BatonTestDatabase
        do {
            database = try BatonTestDatabase(name: name, url: try poolURL?(direct) ?? direct, directURL: direct, adminURL: adminURL)
            if migrate { try await database.migrate(logger: logger) }
        } catch {
            // Leave nothing behind when the set-up failed half-way.
            _ = try? await dropDatabase(name, adminURL: adminURL)
            throw error
        }
        return database
    }

    /// Uses a database that exists already (a URL you give, for example from your CI), and
    /// applies Baton's migrations to it unless `migrate` is false (they are idempotent: an
    /// up-to-date database is left as it is). `drop()` never removes a given database.
    ///
    /// - Parameter directURL: a URL straight to PostgreSQL when `url` goes through a
    ///   transaction pooler; defaults to `url`.
    public static func given(url: String, directURL: String? = nil, migrate: Bool = true,
                             logger: Logger = BatonTestDatabase.quietLogger) async throws -> BatonTestDatabase {
        let database = try BatonTestDatabase(name: "", url: url, directURL: directURL ?? url, adminURL: nil)
        if migrate { try await database.migrate(logger: logger) }
        return database
    }

    /// Runs `body` with a throwaway database (see `throwaway`) and drops it afterwards, also
    /// when `body` throws.
    public static func withThrowaway<T: Sendable>(
        adminURL: String, namePrefix: String = "baton_test", migrate: Bool = true,
        _ body: (BatonTestDatabase) async throws -> T
    ) async throws -> T {
        let database = try await throwaway(adminURL: adminURL, namePrefix: namePrefix, migrate: migrate)
        let value: T
        do {
            value = try await body(database)
        } catch {
            _ = try? await database.drop()
            throw error
        }
        try await database.drop()
        return value
    }

    /// Applies Baton's migrations and SQL functions (what `baton migrate` does), over the
    /// direct URL.
    @discardableResult
    public func migrate(logger: Logger = BatonTestDatabase.quietLogger) async throws -> Migrator.Report {
        let connection = DatabaseConnection(settings: directSettings, label: "testing-migrate", preparedStatements: false)
        do {
            let report = try await Migrator(logger: logger).migrate(connection)
            await connection.close()
            return report
        } catch {
            await connection.close()
            throw BatonTestingError("could not migrate the test database \(directSettings.safeDescription): \(error)")
        }
    }

    /// Drops a throwaway database (closing this object's pool first, and ending any other
    /// connection to it, a worker's included); does nothing for a given one.
    public func drop() async throws {
        guard let adminURL else { return }
        await pool.close()
        try await Self.dropDatabase(name, adminURL: adminURL)
    }

    private static func dropDatabase(_ name: String, adminURL: String) async throws {
        let adminSettings = try ConnectionSettings(adminURL, applicationName: "baton-testing-admin")
        let admin = DatabaseConnection(settings: adminSettings, label: "testing-admin", preparedStatements: false)
        defer { Task { await admin.close() } }
        do {
            // FORCE (PostgreSQL 13+) ends the connections a test left open.
            try await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        } catch {
            throw BatonTestingError("could not drop the test database \(name) on \(adminSettings.safeDescription): \(error)")
        }
    }

    /// Warnings and errors only: what the kit's set-up logs unless given another logger.
    public static var quietLogger: Logger {
        var logger = Logger(label: "baton.testing")
        logger.logLevel = .warning
        return logger
    }

    /// A worker configuration for tests: retries after 20 ms instead of seconds, a 1 s grace
    /// at the end; everything else as `baton worker`'s defaults.
    public static let workerConfiguration = WorkerConfiguration(
        shutdownGraceMs: 1_000, retry: RetryPolicy(maxRetries: 3, baseDelayMs: 20))

    /// Runs a worker with `handlers` in this process for the length of `body`, then stops it.
    /// An error of the worker itself (a database without Baton's schema, say) is thrown after
    /// `body`; a failure of a step is not an error, it is in the session. Without a `logger`,
    /// the worker logs warnings and errors only.
    public func withWorker<T: Sendable>(
        _ handlers: HandlerRegistry, configuration: WorkerConfiguration = BatonTestDatabase.workerConfiguration,
        logger: Logger? = nil, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        let worker = Worker(configuration: configuration, handlers: handlers, direct: directSettings, pool: pool,
                            logger: logger ?? Self.quietLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            let value: T
            do {
                value = try await body()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
            try await group.waitForAll()
            return value
        }
    }

    // MARK: Conveniences over the kit's pieces

    /// One statement on the pool.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) async throws -> QueryResult {
        try await pool.query(sql, parameters)
    }

    /// Waits, driven by LISTEN, until the session has `status`; see `StatusWaiter.waitForStatus`.
    /// Returns the session as it is then.
    @discardableResult
    public func waitForStatus(_ sessionID: String, _ status: SessionStatus, timeout: Duration = .seconds(60),
                              stopAt: Set<SessionStatus> = StatusWaiter.settled) async throws -> Session {
        try await StatusWaiter(settings: directSettings)
            .waitForStatus(sessionID, status, timeout: timeout, stopAt: stopAt)
        return try await client.session(sessionID)
    }

    /// What was queued from now on; see `QueueCheck`.
    public func mark() async throws -> QueueMark {
        try await QueueCheck(pool: pool).mark()
    }

    /// The sessions created since `mark` that match; see `QueueCheck.sessions`.
    public func queuedSessions(_ match: SessionMatch = SessionMatch(), since mark: QueueMark = .beginning) async throws -> [Session] {
        try await QueueCheck(pool: pool).sessions(match, since: mark)
    }

    /// Requires sessions that match to have been created since `mark`; see `QueueCheck.expectQueued`.
    @discardableResult
    public func expectQueued(_ match: SessionMatch, since mark: QueueMark = .beginning, count: Int? = nil) async throws -> [Session] {
        try await QueueCheck(pool: pool).expectQueued(match, since: mark, count: count)
    }

    /// Requires that no session that matches was created since `mark`; see `QueueCheck.expectNotQueued`.
    public func expectNotQueued(_ match: SessionMatch, since mark: QueueMark = .beginning) async throws {
        try await QueueCheck(pool: pool).expectNotQueued(match, since: mark)
    }
}

/// A failed expectation or set-up of the kit, with a message meant for a test report.
public struct BatonTestingError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
