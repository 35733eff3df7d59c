/// Rows of a query, every value in PostgreSQL's text form (NULL as nil).
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows changed by INSERT/UPDATE/DELETE, 0 otherwise.
    public let affectedRows: Int

    public init(columns: [String], rows: [[String?]], affectedRows: Int) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    /// The rows, each addressable by column name.
    public var records: [Record] { rows.indices.map { Record(result: self, index: $0) } }
    public var first: Record? { rows.isEmpty ? nil : Record(result: self, index: 0) }

    func columnIndex(_ name: String) -> Int? { columns.firstIndex(of: name) }

    /// One row of a result.
    public struct Record: Sendable {
        let result: QueryResult
        let index: Int

        /// The text of column `name`, nil for NULL (or an unknown column).
        public subscript(_ name: String) -> String? {
            guard let column = result.columnIndex(name) else { return nil }
            return result.rows[index][column]
        }

        public func string(_ name: String) throws(DatabaseError) -> String {
            guard let value = self[name] else { throw .protocolViolation("column \(name) is NULL or missing") }
            return value
        }

        public func int(_ name: String) throws(DatabaseError) -> Int {
            guard let text = self[name], let value = Int(text) else { throw .protocolViolation("column \(name) is not an integer") }
            return value
        }

        public func int64(_ name: String) throws(DatabaseError) -> Int64 {
            guard let text = self[name], let value = Int64(text) else { throw .protocolViolation("column \(name) is not an integer") }
            return value
        }

        public func bool(_ name: String) -> Bool { self[name] == "t" }
    }
}

/// Text encodings of parameters that libpq sends as text.
public enum PGText {
    /// A PostgreSQL array literal of text values (quoted; NULL for nil).
    public static func array(_ values: [String?]) -> String {
        // Byte by byte: the worker sends one of these per column of every batch commit, and
        // appending scalars to a String was a tenth of its CPU. Quotes and backslashes are ASCII, and no
        // byte of a multi-byte UTF-8 sequence is ASCII, so escaping bytes is exact.
        var out: [UInt8] = []
        out.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        out.append(UInt8(ascii: "{"))
        for (i, value) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard let value else { out.append(contentsOf: "NULL".utf8); continue }
            out.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    public static func array(_ values: [Int64]) -> String { "{" + values.map(String.init).joined(separator: ",") + "}" }
    public static func array(_ values: [Int]) -> String { "{" + values.map(String.init).joined(separator: ",") + "}" }
    public static func array(_ values: [Int?]) -> String { "{" + values.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}" }
    public static func array(_ values: [Bool]) -> String { "{" + values.map { $0 ? "t" : "f" }.joined(separator: ",") + "}" }
    public static func bool(_ value: Bool) -> String { value ? "t" : "f" }
}
