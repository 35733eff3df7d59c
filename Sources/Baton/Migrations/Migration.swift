/// One numbered SQL file from `sql/migrations/` (tables, indexes, data changes), carried in the
/// binary. Applied at most once per database.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// The migrations this binary carries, in order (generated from sql/migrations at build time).
    public static let all: [Migration] = embeddedMigrationFiles.compactMap { file in
        guard let version = Int(file.name.prefix { $0.isNumber }) else { return nil }
        return Migration(version: version, name: file.name, sql: file.sql)
    }.sorted { $0.version < $1.version }

    /// SHA-256 (hex) of earlier texts of a migration that a database may have recorded, and
    /// that `baton migrate` accepts as applied: their schema is what the current text gives
    /// together with the function files.
    ///
    /// Up to 0012 the migrations carried whole functions, copied again into every migration
    /// that changed one. Those bodies moved to sql/functions/, and the migrations kept only
    /// tables, indexes, data changes and the drops of replaced overloads; a database migrated
    /// before that records the checksums below (of the texts kept in
    /// Tests/BatonTests/Fixtures/schema-v12/, which the upgrade tests apply). 0001 did not change.
    public static let earlierChecksums: [Int: Set<String>] = [
        2: ["35e2ecb032404dc6df44c6571d834a2efeb9f6a7209246960fcee2c8225f0043"],
        3: ["b0e93c11136dce62a224a5895c8c715d4b660655b3167eb0324e41f325264d7f"],
        4: ["b81a8f906b3572286c350a345c977365f05fec823d73faccb09f3726fb3f1f63"],
        5: ["3d382c30d535423cf733222b7ed60c8b05a85abd477b666d6b3ec078c10db25d"],
        6: ["604f93932ffccf9180d670726ed000eb7e5731a041a84822239984d054e87cfd"],
        7: ["8a4b7c1f60dca65344570531d85877513b0e7ea7b57041e4960ef8888ebad0af"],
        8: ["4ddcb227196c6021376f04f50562420e0d79d100929e1eb3fc3f1beb338ab166"],
        9: ["298cbdf21cf8b90cbde615b366bb08bc46e91d08643c50def55a823ac6630ae8"],
        10: ["05c046725bcccd4b80f58856f36a8a8f0fdadcb7c8404b3f7f6d6c739fbc37bf"],
        11: ["0ece8ffe00676e23c16660097149ddeed47435ab88e838f68e9f8bafd127a676"],
        12: ["330d38068a0cfdcaef0aee4c0b87416878b3d8ad3f897e315d0b27537635204f"],
    ]
}
