import CLibPQ
import Foundation

/// A named SQL statement: prepared once per connection where the connection allows it.
public struct Statement: Sendable, Hashable {
    public let name: String
    public let sql: String
    public init(_ name: String, _ sql: String) {
        self.name = name
        self.sql = sql
    }
}

/// One PostgreSQL connection. Every libpq call runs on the connection's own thread (its actor
/// executor), never on the cooperative pool. It connects lazily, and after a lost connection
/// the next call reconnects; `generation` counts connections made, so callers can tell that
/// session-level state (advisory locks, LISTEN) was lost.
public actor DatabaseConnection {
    public nonisolated let label: String
    private let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let settings: ConnectionSettings
    /// Named prepared statements are used only on direct connections: a transaction pooler
    /// (PgBouncer < 1.21) breaks them.
    private let usePreparedStatements: Bool
    /// Owns the libpq connection; closes it when the actor goes away.
    private let owner = HandleOwner()
    var handle: OpaquePointer? {
        get { owner.pointer }
        set { owner.pointer = newValue }
    }
    private var prepared: Set<String> = []
    /// Incremented on every successful connect.
    public private(set) var generation = 0

    public init(settings: ConnectionSettings, label: String, preparedStatements: Bool) {
        self.settings = settings
        self.label = label
        self.usePreparedStatements = preparedStatements
        self.executor = ThreadExecutor(name: "baton-pg-\(label)")
    }

    deinit {
        executor.shutdown()
    }

    public var isConnected: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Connects now if not connected.
    public func connect() throws(DatabaseError) {
        if isConnected { return }
        close()
        var keys = ["dbname"]
        var values = [settings.conninfo]
        for (key, value) in settings.overrides.sorted(by: { $0.key < $1.key }) {
            keys.append(key)
            values.append(value)
        }
        let connection = withCStringArray(keys) { k in
            withCStringArray(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let connection else { throw .connection("cannot connect to \(settings.safeDescription): out of memory") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = errorMessage(connection)
            PQfinish(connection)
            throw .connection("cannot connect to \(settings.safeDescription): \(message)")
        }
        // Server NOTICEs ("already exists, skipping", ...) are not errors; keep them off stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
        generation += 1
    }

    /// Drops an idle pooled connection that the server has closed (restart, idle timeout,
    /// pg_terminate_backend), so the next call reconnects instead of failing. The socket of an
    /// idle connection that does not LISTEN is readable only when the server sent something
    /// unasked, in practice a termination notice or end-of-file: reconnecting is the safe
    /// answer either way. No round trip.
    public func dropIfStale() {
        guard let handle else { return }
        var fd = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        if poll(&fd, 1, 0) > 0 || PQstatus(handle) != CONNECTION_OK {
            close()
        }
    }

    /// Closes the connection; the next call reconnects.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        prepared.removeAll()
    }

    /// Runs one statement with text parameters (an unnamed statement: pooler-safe).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(DatabaseError) -> QueryResult {
        try Self.refuseNUL(parameters)
        let connection = try connectedHandle()
        let result = withCStringArray(parameters) { params in
            PQexecParams(connection, sql, Int32(parameters.count), nil, params, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs a named statement, prepared once per connection when allowed.
    @discardableResult
    public func execute(_ statement: Statement, _ parameters: [String?] = []) throws(DatabaseError) -> QueryResult {
        guard usePreparedStatements else { return try query(statement.sql, parameters) }
        try Self.refuseNUL(parameters)
        let connection = try connectedHandle()
        if !prepared.contains(statement.name) {
            _ = try consume(PQprepare(connection, statement.name, statement.sql, Int32(parameters.count), nil))
            prepared.insert(statement.name)
        }
        let result = withCStringArray(parameters) { params in
            PQexecPrepared(connection, statement.name, Int32(parameters.count), params, nil, nil, 0)
        }
        return try consume(result)
    }

    /// libpq takes text parameters as C strings, so a NUL character would silently cut a value
    /// short ("a\0b" would name session "a"). PostgreSQL text cannot hold NUL at all: refuse it
    /// with the error the server gives for that byte.
    static func refuseNUL(_ parameters: [String?]) throws(DatabaseError) {
        for case let value? in parameters where value.utf8.contains(0) {
            throw .server(sqlState: "22021", message: "a value contains a NUL character (\\0), which PostgreSQL text cannot hold",
                          detail: nil, hint: nil)
        }
    }

    /// Runs SQL text that may hold several statements and no parameters (migrations).
    public func run(script sql: String) throws(DatabaseError) {
        let connection = try connectedHandle()
        var result = PQexec(connection, sql)
        _ = try consume(result)
        // PQexec returns only the last result; make sure nothing else is pending.
        result = PQgetResult(connection)
        while let extra = result {
            PQclear(extra)
            result = PQgetResult(connection)
        }
    }

    func connectedHandle() throws(DatabaseError) -> OpaquePointer {
        if let handle, PQstatus(handle) == CONNECTION_OK { return handle }
        try connect()
        guard let handle else { throw .connection("not connected to \(settings.safeDescription)") }
        return handle
    }

    /// Turns a PGresult into rows or an error, freeing it.
    func consume(_ result: OpaquePointer?) throws(DatabaseError) -> QueryResult {
        guard let result else {
            throw lostOrFailed(handle.map(errorMessage) ?? "no result")
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            let columnCount = Int(PQnfields(result))
            let rowCount = Int(PQntuples(result))
            var columns: [String] = []
            columns.reserveCapacity(columnCount)
            for c in 0..<columnCount { columns.append(String(cString: PQfname(result, Int32(c)))) }
            var rows: [[String?]] = []
            rows.reserveCapacity(rowCount)
            for r in 0..<rowCount {
                var row: [String?] = []
                row.reserveCapacity(columnCount)
                for c in 0..<columnCount {
                    if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                        row.append(nil)
                    } else {
                        row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                    }
                }
                rows.append(row)
            }
            let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
            return QueryResult(columns: columns, rows: rows, affectedRows: affected)
        default:
            func field(_ code: Int32) -> String? {
                PQresultErrorField(result, code).map { settings.redact(String(cString: $0)) }
            }
            if let state = field(Int32(UInt8(ascii: "C"))) {
                let error = DatabaseError.server(
                    sqlState: state,
                    message: field(Int32(UInt8(ascii: "M"))) ?? "error",
                    detail: field(Int32(UInt8(ascii: "D"))),
                    hint: field(Int32(UInt8(ascii: "H"))))
                if error.isConnectionLoss || (handle.map { PQstatus($0) != CONNECTION_OK } ?? true) {
                    close()
                }
                throw error
            }
            throw lostOrFailed(settings.redact(String(cString: PQresultErrorMessage(result))))
        }
    }

    private func lostOrFailed(_ message: String) -> DatabaseError {
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if handle.map({ PQstatus($0) != CONNECTION_OK }) ?? true {
            close()
            return .connection("lost the connection to \(settings.safeDescription): \(trimmed)")
        }
        return .protocolViolation(trimmed)
    }

    func errorMessage(_ connection: OpaquePointer) -> String {
        settings.redact(String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Owner of a PGconn: the actor's own deinit cannot touch it (a nonisolated deinit may not read
/// non-Sendable state, and `isolated deinit` breaks release builds of Swift 6.3), so this
/// object finishes the connection when the actor releases it.
final class HandleOwner {
    var pointer: OpaquePointer?
    deinit {
        if let pointer { PQfinish(pointer) }
    }
}

/// Calls `body` with a NULL-terminated array of C strings (nil entries stay NULL).
func withCStringArray<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for copy in copies { free(copy) } }
    return body(copies.map { $0.map { UnsafePointer($0) } } + [nil])
}

func withCStringArray<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    withCStringArray(strings.map(Optional.some), body)
}
