/// One file from `sql/functions/`: the `CREATE OR REPLACE` of one function (or of the overloads
/// of one name), with its trigger when it is a trigger function. `baton migrate` applies it after
/// the migrations whenever its text differs from the one the database recorded.
public struct FunctionFile: Sendable, Hashable {
    public let name: String
    public let sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }

    /// The function files this binary carries, in name order (generated from sql/functions).
    public static let all: [FunctionFile] = embeddedFunctionFiles
        .map { FunctionFile(name: $0.name, sql: $0.sql) }
        .sorted { $0.name < $1.name }
}
