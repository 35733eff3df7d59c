/// An error from PostgreSQL or from reaching it. Messages never contain the connection URL
/// or its password.
public enum DatabaseError: Error, Sendable, CustomStringConvertible {
    /// The server answered with an error. `sqlState` is its five-character code.
    case server(sqlState: String, message: String, detail: String?, hint: String?)
    /// The connection could not be made, or was lost. Retrying later may succeed.
    case connection(String)
    /// The settings are wrong (bad URL, missing variable): retrying will not help.
    case configuration(String)
    /// No pooled connection became free in time.
    case poolTimeout(String)
    /// The result did not have the expected shape (a bug, or a schema from another version).
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .server(let state, let message, let detail, let hint):
            var text = message
            if let detail, !detail.isEmpty { text += " (\(detail))" }
            if let hint, !hint.isEmpty { text += ". Hint: \(hint)" }
            return text + " [SQLSTATE \(state)]"
        case .connection(let message): return message
        case .configuration(let message): return message
        case .poolTimeout(let message): return message
        case .protocolViolation(let message): return message
        }
    }

    /// The SQLSTATE when the server raised this error.
    public var sqlState: String? {
        if case .server(let state, _, _, _) = self { return state }
        return nil
    }

    /// True when the connection is gone or could not be made: reconnect and try again.
    public var isConnectionLoss: Bool {
        switch self {
        case .connection: return true
        case .server(let state, _, _, _):
            // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
            return state.hasPrefix("08") || state.hasPrefix("57P")
        default: return false
        }
    }

    /// True when the server could not be reached or is not accepting connections yet (refused,
    /// timed out, starting up or shutting down, host not resolvable): waiting may help. False
    /// for a refused login, an unknown database or a bad option, which waiting cannot mend.
    public var isUnreachable: Bool {
        switch self {
        case .server(let state, _, _, _): return state == "57P03" || state.hasPrefix("08")
        case .connection(let message):
            // libpq gives no code for a failed connect; these are its (and the kernel's) words.
            let transient = [
                "Connection refused", "timeout expired", "the database system is", "No such file or directory",
                "could not translate host name", "Network is unreachable", "No route to host",
                "server closed the connection unexpectedly", "Connection reset", "Connection timed out",
            ]
            return transient.contains { message.contains($0) }
        default: return false
        }
    }

    /// Baton's own SQLSTATEs (class BT, see docs/design.md, "Names fixed by this contract").
    public static let unknownSQLState = "BT404"
    public static let wrongStateSQLState = "BT409"
    public static let badArgumentSQLState = "BT400"
    public static let invalidTransitionSQLState = "BT422"
}
