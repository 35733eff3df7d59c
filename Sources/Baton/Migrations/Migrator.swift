import Logging

/// Applies the embedded SQL, all in one transaction under an advisory lock so that concurrent
/// migrators wait for each other:
/// 1. the migrations (`sql/migrations`), each at most once, recorded with a SHA-256 checksum in
///    `baton.schema_migrations`; it refuses to run when an applied file changed;
/// 2. then the function files (`sql/functions`, `CREATE OR REPLACE`) whose text differs from the
///    one recorded in `baton.schema_functions`, recording the new checksum.
public struct Migrator: Sendable {
    public var migrations: [Migration]
    public var functions: [FunctionFile]
    public var logger: Logger

    public init(migrations: [Migration] = Migration.all, functions: [FunctionFile] = FunctionFile.all,
                logger: Logger = Logger(label: "baton.migrate")) {
        self.migrations = migrations
        self.functions = functions
        self.logger = logger
    }

    /// What `migrate` did.
    public struct Report: Sendable, Codable, Hashable {
        /// Migrations applied now.
        public var applied: [String]
        /// Migrations the database had.
        public var alreadyApplied: [String]
        /// Function files applied now: new to the database, or changed since it recorded them.
        public var functionsApplied: [String]
        /// Function files the database had in this very text.
        public var functionsUnchanged: [String]
    }

    /// A migration recorded in the database differs from the file this binary carries.
    public struct ChangedMigration: Error, CustomStringConvertible, Equatable {
        public var name: String
        public var recorded: String
        public var carried: String
        public init(name: String, recorded: String, carried: String) {
            self.name = name
            self.recorded = recorded
            self.carried = carried
        }
        public var description: String {
            "migration \(name) was changed after it was applied (recorded checksum \(recorded.prefix(12))…, this binary's \(carried.prefix(12))…). Applied migrations must not change: restore the file and put the change in a new numbered migration."
        }
    }

    /// The newest migration applied to the database, or nil when it has no Baton schema.
    public static func appliedVersion(_ pool: ConnectionPool) async throws -> Int? {
        guard try await pool.query(MigrationQueries.tablePresent).first?.bool("present") == true else { return nil }
        return try await pool.query(MigrationQueries.newestVersion).first?["version"].flatMap(Int.init)
    }

    /// Whether the database has this binary's migrations and functions (see `SchemaState`).
    public func schemaState(_ pool: ConnectionPool) async throws -> SchemaState {
        let version = try await Self.appliedVersion(pool)
        let newest = migrations.last?.version ?? 0
        var recorded: [String: String] = [:]
        var carried: [String: String] = [:]
        // Functions are compared only when the migrations match (they need baton.schema_functions).
        if let version, version == newest {
            guard try await pool.query(MigrationQueries.functionsTablePresent).first?.bool("present") == true else {
                return .behind(applied: version, needed: newest)
            }
            for row in try await pool.query(MigrationQueries.appliedFunctions).records {
                recorded[try row.string("name")] = try row.string("checksum")
            }
            let sums = try await pool.query(MigrationQueries.checksums, [PGText.array(functions.map(\.sql))])
            for (file, row) in zip(functions, sums.records) { carried[file.name] = try row.string("checksum") }
        }
        return SchemaState(appliedVersion: version, newestCarried: newest, recordedFunctions: recorded, carriedFunctions: carried)
    }

    /// - Parameter roles: also create the roles baton_client and baton_worker (when missing)
    ///   and grant them their rights in this database (see sql/functions/create_roles.sql);
    ///   once a database has them, every later run renews the grants.
    public func migrate(_ connection: DatabaseConnection, roles: Bool = false) async throws -> Report {
        try await connection.migrate(migrations, functions: functions, roles: roles, logger: logger)
    }
}

extension DatabaseConnection {
    func migrate(_ migrations: [Migration], functions: [FunctionFile], roles: Bool = false, logger: Logger) throws -> Migrator.Report {
        try requireServerVersion()
        try query("BEGIN")
        do {
            try query(MigrationQueries.lock)
            try run(script: MigrationQueries.bootstrap)
            let plan = try applyMigrations(migrations, logger: logger)
            var report = Migrator.Report(applied: plan.pending.map(\.name), alreadyApplied: plan.applied.map(\.name),
                                         functionsApplied: [], functionsUnchanged: [])
            if !plan.unknownVersions.isEmpty {
                // This binary's functions may be older than the newer baton's: leave them.
                logger.warning("the database has migrations this binary does not know (a newer baton migrated it); its SQL functions are left as they are: run the newer baton",
                               metadata: ["versions": "\(plan.unknownVersions.map(String.init).joined(separator: ","))"])
            } else if !functions.isEmpty {
                let functionPlan = try applyFunctions(functions, logger: logger)
                report.functionsApplied = functionPlan.changed.map(\.name)
                report.functionsUnchanged = functionPlan.unchanged.map(\.name)
                do {
                    try query(roles ? MigrationQueries.createRoles : MigrationQueries.grantRoles)
                } catch {
                    throw DatabaseError.configuration(roles
                        ? "could not create the roles baton_client and baton_worker (migrate with a role that has CREATEROLE): \(error)"
                        : "could not renew the grants of baton_client and baton_worker: \(error)")
                }
            }
            try query("COMMIT")
            return report
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    /// Applies and records the migrations the database lacks (inside the migration transaction).
    private func applyMigrations(_ migrations: [Migration], logger: Logger) throws -> MigrationPlan {
        var recorded: [Int: String] = [:]
        for row in try query(MigrationQueries.applied).records {
            recorded[try row.int("version")] = try row.string("checksum")
        }
        let sums = Dictionary(uniqueKeysWithValues: zip(migrations.map(\.name), try checksums(migrations.map(\.sql))))
        let plan = try MigrationPlan(migrations: migrations, checksums: sums, recorded: recorded)
        for migration in plan.pending {
            logger.info("applying migration", metadata: ["file": "\(migration.name)"])
            do {
                try run(script: migration.sql)
            } catch {
                throw DatabaseError.configuration("migration \(migration.name) failed: \(error)")
            }
            try query(MigrationQueries.record, [String(migration.version), migration.name, sums[migration.name]])
        }
        return plan
    }

    /// Applies and records the function files whose text the database has not recorded (inside
    /// the migration transaction, after the migrations).
    private func applyFunctions(_ functions: [FunctionFile], logger: Logger) throws -> FunctionPlan {
        guard try query(MigrationQueries.functionsTablePresent).first?.bool("present") == true else {
            throw DatabaseError.configuration("function files need the table baton.schema_functions, which migration 0013 creates")
        }
        var recorded: [String: String] = [:]
        for row in try query(MigrationQueries.appliedFunctions).records {
            recorded[try row.string("name")] = try row.string("checksum")
        }
        let sums = Dictionary(uniqueKeysWithValues: zip(functions.map(\.name), try checksums(functions.map(\.sql))))
        let plan = FunctionPlan(files: functions, checksums: sums, recorded: recorded)
        // As a restore does: a SQL function's body is checked when it is first used, not when
        // it is created, so files apply in name order whatever they call.
        if !plan.changed.isEmpty { try query("SET LOCAL check_function_bodies = off") }
        for file in plan.changed {
            logger.info("applying function file", metadata: ["file": "\(file.name)"])
            do {
                try run(script: file.sql)
            } catch {
                throw DatabaseError.configuration("function file \(file.name) failed: \(error)")
            }
            try query(MigrationQueries.recordFunction, [file.name, sums[file.name]])
        }
        return plan
    }

    /// SHA-256 (hex) of each text, as PostgreSQL computes it (the checksums recorded so far
    /// came from there).
    private func checksums(_ texts: [String]) throws -> [String] {
        let rows = try query(MigrationQueries.checksums, [PGText.array(texts)]).records
        guard rows.count == texts.count else { throw DatabaseError.protocolViolation("expected \(texts.count) checksums, got \(rows.count)") }
        return try rows.map { try $0.string("checksum") }
    }

    /// Function files replace their triggers with CREATE OR REPLACE TRIGGER (PostgreSQL 14).
    private func requireServerVersion() throws {
        let version = try query(MigrationQueries.serverVersion).first
        guard let number = version?["number"].flatMap(Int.init), number >= 140_000 else {
            throw DatabaseError.configuration("Baton needs PostgreSQL 14 or later; this server is \(version?["version"] ?? "unknown")")
        }
    }
}

/// SQL of the migrator.
enum MigrationQueries {
    /// Serializes migrators for the length of the transaction (pooler-safe: transaction-level).
    static let lock = "SELECT pg_advisory_xact_lock(74262, 2)"
    /// sql/functions/create_roles.sql and grant_roles.sql (the latter is absent in a function
    /// set older than them, as some upgrade tests apply).
    static let createRoles = "SELECT baton.create_roles()"
    static let grantRoles = """
        DO $$ BEGIN
            IF to_regprocedure('baton.grant_roles()') IS NOT NULL THEN PERFORM baton.grant_roles(); END IF;
        END $$
        """
    static let bootstrap = """
        CREATE SCHEMA IF NOT EXISTS baton;
        CREATE TABLE IF NOT EXISTS baton.schema_migrations (
            version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now());
        """
    static let applied = "SELECT version, checksum FROM baton.schema_migrations ORDER BY version"
    static let tablePresent = "SELECT to_regclass('baton.schema_migrations') IS NOT NULL AS present"
    static let newestVersion = "SELECT max(version) AS version FROM baton.schema_migrations"
    static let checksums = """
        SELECT encode(sha256(convert_to(u.body, 'UTF8')), 'hex') AS checksum
        FROM unnest($1::text[]) WITH ORDINALITY u(body, i) ORDER BY u.i
        """
    static let record = "INSERT INTO baton.schema_migrations (version, name, checksum) VALUES ($1::int, $2, $3)"
    static let functionsTablePresent = "SELECT to_regclass('baton.schema_functions') IS NOT NULL AS present"
    static let appliedFunctions = "SELECT name, checksum FROM baton.schema_functions"
    static let recordFunction = """
        INSERT INTO baton.schema_functions AS f (name, checksum) VALUES ($1, $2)
        ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
        """
    static let serverVersion = "SELECT current_setting('server_version_num') AS number, current_setting('server_version') AS version"
}
