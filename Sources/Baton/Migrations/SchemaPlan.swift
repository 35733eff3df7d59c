/// What `baton migrate` does with the migrations, decided from what the database recorded in
/// `baton.schema_migrations`. Pure: checksums (SHA-256, hex) come in, computed by the database.
public struct MigrationPlan: Sendable, Equatable {
    /// To apply now, in order.
    public var pending: [Migration]
    /// Recorded already, with this text or an earlier one that `earlierChecksums` names.
    public var applied: [Migration]
    /// Recorded versions this binary does not carry: a newer baton migrated the database.
    public var unknownVersions: [Int]

    /// - Parameters:
    ///   - checksums: the checksum of each carried migration's text, by name.
    ///   - recorded: version → checksum, as the database recorded them.
    /// - Throws: `ChangedMigration` for the first recorded migration whose checksum is neither
    ///   this text's nor a known earlier one's.
    public init(migrations: [Migration], checksums: [String: String], recorded: [Int: String],
                earlierChecksums: [Int: Set<String>] = Migration.earlierChecksums) throws(Migrator.ChangedMigration) {
        pending = []
        applied = []
        for migration in migrations {
            let carried = checksums[migration.name] ?? ""
            guard let previous = recorded[migration.version] else {
                pending.append(migration)
                continue
            }
            guard previous == carried || earlierChecksums[migration.version]?.contains(previous) == true else {
                throw Migrator.ChangedMigration(name: migration.name, recorded: previous, carried: carried)
            }
            applied.append(migration)
        }
        let known = Set(migrations.map(\.version))
        unknownVersions = recorded.keys.filter { !known.contains($0) }.sorted()
    }
}

/// Which function files `baton migrate` applies: those the database has not recorded in this
/// very text (`baton.schema_functions`). Re-applying only those matters: a `CREATE OR REPLACE
/// TRIGGER` locks its table against writes until the migration commits.
public struct FunctionPlan: Sendable, Equatable {
    /// New to the database, or changed since it recorded them; in name order.
    public var changed: [FunctionFile]
    public var unchanged: [FunctionFile]

    /// - Parameters:
    ///   - checksums: the checksum of each carried file's text, by name.
    ///   - recorded: file name → checksum, as the database recorded them.
    public init(files: [FunctionFile], checksums: [String: String], recorded: [String: String]) {
        changed = files.filter { recorded[$0.name] == nil || recorded[$0.name] != checksums[$0.name] }
        unchanged = files.filter { recorded[$0.name] != nil && recorded[$0.name] == checksums[$0.name] }
    }
}

/// Whether a database is ready for this binary's workers and API, or needs `baton migrate`.
public enum SchemaState: Sendable, Equatable {
    /// No Baton schema at all.
    case missing
    /// Migrations this binary carries are not applied.
    case behind(applied: Int, needed: Int)
    /// The migrations are applied, but these function files are not, in this binary's text:
    /// functions older than the binary's (or, after a downgrade, newer ones).
    case functionsDiffer(files: [String])
    /// Migrations and functions are this binary's.
    case current
    /// Migrated by a newer baton (a migration this binary does not know). Its functions are
    /// that baton's and are not compared.
    case newer(applied: Int)

    /// - Parameters:
    ///   - appliedVersion: the newest migration recorded, nil without a Baton schema.
    ///   - recordedFunctions: file name → checksum recorded by `baton migrate`.
    ///   - carriedFunctions: file name → checksum of this binary's text.
    public init(appliedVersion: Int?, newestCarried: Int, recordedFunctions: [String: String],
                carriedFunctions: [String: String]) {
        guard let appliedVersion else {
            self = .missing
            return
        }
        if appliedVersion < newestCarried {
            self = .behind(applied: appliedVersion, needed: newestCarried)
        } else if appliedVersion > newestCarried {
            self = .newer(applied: appliedVersion)
        } else {
            let differing = carriedFunctions.filter { recordedFunctions[$0.key] != $0.value }.keys.sorted()
            self = differing.isEmpty ? .current : .functionsDiffer(files: differing)
        }
    }
}
