import Logging

/// Applies the embedded migrations: each at most once, recorded with a SHA-256 checksum in
/// `baton.schema_migrations`, all in one transaction under an advisory lock so that
/// concurrent migrators wait for each other. Refuses to run when an applied file changed.
public struct Migrator: Sendable {
    public var migrations: [Migration]
    public var logger: Logger

    public init(migrations: [Migration] = Migration.all, logger: Logger = Logger(label: "baton.migrate")) {
        self.migrations = migrations
        self.logger = logger
    }

    /// What `migrate` did.
    public struct Report: Sendable, Codable, Hashable {
        public var applied: [String]
        public var alreadyApplied: [String]
    }

    /// A migration recorded in the database differs from the file this binary carries.
    public struct ChangedMigration: Error, CustomStringConvertible {
        public var name: String
        public var recorded: String
        public var carried: String
        public var description: String {
            "migration \(name) was changed after it was applied (recorded checksum \(recorded.prefix(12))…, this binary's \(carried.prefix(12))…). Applied migrations must not change: restore the file and put the change in a new numbered migration."
        }
    }

    /// The newest migration applied to the database, or nil when it has no Baton schema.
    public static func appliedVersion(_ pool: ConnectionPool) async throws -> Int? {
        guard try await pool.query(MigrationQueries.tablePresent).first?.bool("present") == true else { return nil }
        return try await pool.query(MigrationQueries.newestVersion).first?["version"].flatMap(Int.init)
    }

    public func migrate(_ connection: DatabaseConnection) async throws -> Report {
        try await connection.migrate(migrations, logger: logger)
    }
}

extension DatabaseConnection {
    func migrate(_ migrations: [Migration], logger: Logger) throws -> Migrator.Report {
        try query("BEGIN")
        do {
            try query(MigrationQueries.lock)
            try run(script: MigrationQueries.bootstrap)
            var recorded: [Int: String] = [:]
            for row in try query(MigrationQueries.applied).records {
                recorded[try row.int("version")] = try row.string("checksum")
            }
            var report = Migrator.Report(applied: [], alreadyApplied: [])
            for migration in migrations {
                let checksum = try query(MigrationQueries.checksum, [migration.sql]).first?.string("checksum") ?? ""
                if let previous = recorded[migration.version] {
                    guard previous == checksum else {
                        throw Migrator.ChangedMigration(name: migration.name, recorded: previous, carried: checksum)
                    }
                    report.alreadyApplied.append(migration.name)
                    continue
                }
                logger.info("applying migration", metadata: ["file": "\(migration.name)"])
                do {
                    try run(script: migration.sql)
                } catch {
                    throw DatabaseError.configuration("migration \(migration.name) failed: \(error)")
                }
                try query(MigrationQueries.record, [String(migration.version), migration.name, checksum])
                report.applied.append(migration.name)
            }
            let known = Set(migrations.map(\.version))
            for version in recorded.keys.sorted() where !known.contains(version) {
                logger.warning("the database has a migration this binary does not know; run a newer baton",
                               metadata: ["version": "\(version)"])
            }
            try query("COMMIT")
            return report
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }
}

/// SQL of the migrator.
enum MigrationQueries {
    /// Serializes migrators for the length of the transaction (pooler-safe: transaction-level).
    static let lock = "SELECT pg_advisory_xact_lock(74262, 2)"
    static let bootstrap = """
        CREATE SCHEMA IF NOT EXISTS baton;
        CREATE TABLE IF NOT EXISTS baton.schema_migrations (
            version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now());
        """
    static let applied = "SELECT version, checksum FROM baton.schema_migrations ORDER BY version"
    static let tablePresent = "SELECT to_regclass('baton.schema_migrations') IS NOT NULL AS present"
    static let newestVersion = "SELECT max(version) AS version FROM baton.schema_migrations"
    static let checksum = "SELECT encode(sha256(convert_to($1::text, 'UTF8')), 'hex') AS checksum"
    static let record = "INSERT INTO baton.schema_migrations (version, name, checksum) VALUES ($1::int, $2, $3)"
}
