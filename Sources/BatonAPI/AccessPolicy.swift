/// Who may call what, from `BATON_API_TOKEN` (everything) and `BATON_API_READ_TOKEN` (reads
/// only, for front ends that poll progress). Pure: the middleware asks, and answers with the
/// decision. Session inputs and results are user data, so once a token is set, reads need one
/// too; the health check, the metrics, the API document and the dashboard's page itself carry
/// no user data and stay open (the dashboard sends the token with its calls).
struct AccessPolicy: Sendable {
    let fullToken: [UInt8]?
    let readToken: [UInt8]?

    /// Paths anyone may GET, tokens or not.
    static let openPaths: Set<String> = ["/healthz", "/metrics", "/openapi.json", "/"]

    enum Decision: Equatable {
        case allow
        /// No `Authorization: Bearer` header where one is needed.
        case missing
        /// A token that is neither of the server's.
        case wrong
        /// The read-only token on a call that changes something.
        case readOnly
    }

    init(fullToken: String?, readToken: String?) {
        self.fullToken = fullToken.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.readToken = readToken.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
    }

    /// True when no token is set: everything is open (a server on loopback, in development).
    var isOpen: Bool { fullToken == nil && readToken == nil }

    /// `reads`: GET, HEAD or OPTIONS. `authorization`: the header as sent, if any.
    func decide(reads: Bool, path: String, authorization: String?) -> Decision {
        if isOpen || (reads && (Self.openPaths.contains(path) || Dashboard.isOwnPath(path))) { return .allow }
        let prefix = Array("bearer ".utf8)
        guard let header = authorization.map({ Array($0.utf8) }), header.count >= prefix.count,
              header.prefix(prefix.count).map({ $0 | 0x20 }) == prefix else {
            return .missing
        }
        let presented = Array(header.dropFirst(prefix.count))
        // Both comparisons always run, so the time taken says nothing about which token it was.
        let isFull = fullToken.map { Self.equal(presented, $0) } ?? false
        let isRead = readToken.map { Self.equal(presented, $0) } ?? false
        if isFull { return .allow }
        if isRead { return reads ? .allow : .readOnly }
        return .wrong
    }

    /// Constant time in the content: every byte is compared, whatever differs first.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
