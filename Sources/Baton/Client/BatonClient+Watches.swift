import Foundation

/// A watched table: its changes become sessions of `kind`, coalesced per key.
public struct Watch: Sendable, Codable, Hashable {
    public var id: Int
    /// schema.table.
    public var table: String
    public var kind: String
    public var keyColumn: String
    public var phases: Int
    /// Only changes to these columns count; nil: any column.
    public var columns: [String]?
    public var autoPhases: Bool
    public var createdAt: String
    /// False when the table was dropped after it was watched (`baton.unwatch` cleans up).
    public var tableExists: Bool
}

extension BatonClient {
    /// Watches `table` (a name as PostgreSQL resolves it, e.g. `public.episodes`): every committed
    /// INSERT, UPDATE (of `columns`, when given) and DELETE makes a session of `kind` for the row's
    /// key, coalesced per key. Watching the same table and kind again replaces the watch.
    public func watch(table: String, kind: String, keyColumn: String? = nil, phases: Int? = nil,
                      columns: [String]? = nil, autoPhases: Bool? = nil) async throws -> Watch {
        try Self.decodeWatch(try await runNamingTable(table, WatchQueries.watch, [
            table, kind, keyColumn, phases.map(String.init), columns.map { PGText.array($0.map(Optional.some)) },
            autoPhases.map(PGText.bool),
        ]).first)
    }

    /// Removes the watch of `kind` on `table`; sessions it created run on.
    public func unwatch(table: String, kind: String) async throws -> Watch {
        try Self.decodeWatch(try await runNamingTable(table, WatchQueries.unwatch, [table, kind]).first)
    }

    /// Every watch.
    public func watches() async throws -> [Watch] {
        try await run(WatchQueries.list).records.map(Self.decodeWatch)
    }

    /// A statement whose first parameter names a table: an unknown table is bad input, not a
    /// missing schema.
    private func runNamingTable(_ table: String, _ sql: String, _ parameters: [String?]) async throws -> QueryResult {
        do {
            return try await run(sql, parameters)
        } catch let error as DatabaseError where error.sqlState == "42P01" || error.sqlState == "42602" || error.sqlState == "3F000" {
            throw BatonError.badInput("there is no table \(table.debugDescription) (name it as schema.table, e.g. public.episodes)")
        }
    }

    static func decodeWatch(_ row: QueryResult.Record?) throws -> Watch {
        guard let row else { throw DatabaseError.protocolViolation("no watch returned") }
        return Watch(
            id: try row.int("id"), table: try row.string("source_name"), kind: try row.string("kind"),
            keyColumn: try row.string("key_column"), phases: try row.int("phases"),
            columns: try row["columns"].map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) }, autoPhases: row.bool("auto_phases"),
            createdAt: try row.string("created_at"), tableExists: row.bool("table_exists"))
    }
}
