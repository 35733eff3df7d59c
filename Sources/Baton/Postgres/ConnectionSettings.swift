import Foundation
import CLibPQ

/// How to reach PostgreSQL: a libpq URL or key=value string, plus extra parameters.
/// It never prints its URL: `description` and every error name the host, port, database and
/// user only, and `redact` removes the password from any text that might echo it.
public struct ConnectionSettings: Sendable, CustomStringConvertible {
    /// The URL or conninfo as given. Never logged.
    let conninfo: String
    /// Parameters that override the URL's (keepalives, application_name, …).
    public var overrides: [String: String]
    /// "user@host:port/database", safe to print.
    public let safeDescription: String
    let password: String?

    /// Parses `conninfo`; throws a message that names what is wrong without echoing the URL.
    public init(_ conninfo: String, applicationName: String = "baton") throws(DatabaseError) {
        self.conninfo = conninfo
        self.overrides = ["application_name": applicationName]
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            let detail = errorMessage.map { String(cString: $0) } ?? "unparseable"
            if let errorMessage { PQfreemem(errorMessage) }
            // libpq's message may quote the URL; keep only its first clause.
            let firstClause = detail.split(separator: "\"").first.map(String.init) ?? "invalid"
            throw DatabaseError.configuration(
                "the database URL is not valid (\(firstClause.trimmingCharacters(in: .whitespacesAndNewlines))); expected postgresql://user:password@host:port/database")
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        password = values["password"].flatMap { $0.isEmpty ? nil : $0 }
        let host = values["host"] ?? values["hostaddr"] ?? "localhost"
        let port = values["port"] ?? "5432"
        let user = values["user"].map { $0 + "@" } ?? ""
        let database = values["dbname"] ?? values["user"] ?? ""
        safeDescription = "\(user)\(host):\(port)/\(database)"
    }

    public var description: String { safeDescription }

    /// Settings for a long-lived connection (the listener, a worker's claim connection): TCP
    /// keepalives and a user timeout, so a half-open socket is noticed instead of waited on
    /// forever, and a connect timeout, so an unreachable host does not stall a reconnect.
    public func forLongLivedConnection() -> ConnectionSettings {
        var copy = self
        copy.overrides.merge([
            "keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5",
            "keepalives_count": "3", "tcp_user_timeout": "20000", "connect_timeout": "10",
        ]) { _, new in new }
        return copy
    }

    /// `text` with the password (if any) replaced by `***`.
    public func redact(_ text: String) -> String {
        guard let password, password.count >= 1 else { return text }
        var out = text.replacingOccurrences(of: password, with: "***")
        // It may also appear percent-encoded, as written in a URL.
        if let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != password {
            out = out.replacingOccurrences(of: encoded, with: "***")
        }
        return out
    }
}
