/// The page cursor of session lists (`BatonClient.listSessions`, `GET /api/sessions`,
/// `baton session list --after`): the position (created_at, id) of a page's last session, as
/// `<microseconds since 1970 UTC>-<the id's UTF-8 in lowercase hex>`.
///
/// Every text of that form is a position, so the OpenAPI document can state the form as a
/// pattern and the server accepts whatever matches it (a cursor it never issued just starts
/// somewhere). Pure: no I/O.
public struct SessionCursor: Equatable, Sendable {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64
    public var id: String

    /// The pattern the OpenAPI document gives (hex bytes other than 00: PostgreSQL text holds no NUL).
    public static let pattern = "^[0-9]{1,16}-(?:0[1-9a-f]|[1-9a-f][0-9a-f]){1,800}$"

    public init(microseconds: Int64, id: String) {
        self.microseconds = microseconds
        self.id = id
    }

    /// Reads a cursor's text; nil unless `text` matches `pattern`. Bytes that are not UTF-8 read
    /// as U+FFFD: a cursor the server did not issue still names a position.
    public init?(text: String) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, (1...16).contains(parts[0].utf8.count), parts[0].utf8.allSatisfy(Self.isDigit),
              let microseconds = Int64(parts[0]) else { return nil }
        let hex = Array(parts[1].utf8)
        guard hex.count >= 2, hex.count <= 1600, hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        for i in stride(from: 0, to: hex.count, by: 2) {
            guard let high = Self.nibble(hex[i]), let low = Self.nibble(hex[i + 1]), high | low != 0 else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(microseconds: microseconds, id: String(decoding: bytes, as: UTF8.self))
    }

    /// The cursor's text, as clients see it.
    public var text: String {
        String(microseconds) + "-" + id.utf8.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
