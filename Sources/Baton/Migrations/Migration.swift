/// One numbered SQL file from `sql/`, carried in the binary.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String

    /// The migrations this binary carries, in order (generated from sql/*.sql at build time).
    public static let all: [Migration] = embeddedMigrationFiles.compactMap { file in
        guard let version = Int(file.name.prefix { $0.isNumber }) else { return nil }
        return Migration(version: version, name: file.name, sql: file.sql)
    }.sorted { $0.version < $1.version }
}
