import Foundation

/// The API's page cursor for `GET /api/sessions`: the position (created_at, id) of a page's
/// last session, as `<microseconds since 1970 UTC>-<the id's UTF-8 in lowercase hex>`.
///
/// Every text of that form is a position, so the OpenAPI document can state the form as a
/// pattern and the server accepts whatever matches it (a cursor it never issued just starts
/// somewhere). `BatonClient` keeps its own cursor (base64 of `<ISO time>|<id>`), which the CLI
/// shows; this type translates between the two. Pure: no I/O.
struct SessionCursor: Equatable, Sendable {
    /// Microseconds since 1970-01-01T00:00:00Z.
    var microseconds: Int64
    var id: String

    /// The pattern the OpenAPI document gives (hex bytes other than 00: PostgreSQL text holds no NUL).
    static let pattern = "^[0-9]{1,16}-(?:0[1-9a-f]|[1-9a-f][0-9a-f]){1,800}$"

    init(microseconds: Int64, id: String) {
        self.microseconds = microseconds
        self.id = id
    }

    /// Reads the API's form; nil unless `text` matches `pattern`. Bytes that are not UTF-8 read
    /// as U+FFFD: a cursor the server did not issue still names a position.
    init?(text: String) {
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

    /// The API's form.
    var text: String {
        String(microseconds) + "-" + id.utf8.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
    }

    /// Reads `BatonClient`'s cursor: base64 of `YYYY-MM-DDTHH:MM:SS.ffffffZ|<id>`.
    init?(clientCursor: String) {
        guard let decoded = Data(base64Encoded: clientCursor).flatMap({ String(data: $0, encoding: .utf8) }),
              let bar = decoded.firstIndex(of: "|") else { return nil }
        let time = Array(decoded[..<bar].utf8)
        // 2026-12-03T06:29:31.202311Z: fixed positions, as SessionQueries writes it.
        guard time.count == 27, time[4] == 0x2D, time[7] == 0x2D, time[10] == 0x54, time[13] == 0x3A,
              time[16] == 0x3A, time[19] == 0x2E, time[26] == 0x5A else { return nil }
        func number(_ from: Int, _ count: Int) -> Int64? {
            let digits = time[from..<(from + count)]
            guard digits.allSatisfy(Self.isDigit) else { return nil }
            return digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2), let fraction = number(20, 6) else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        guard days >= 0 else { return nil }
        let seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
        self.init(microseconds: seconds * 1_000_000 + fraction, id: String(decoded[decoded.index(after: bar)...]))
    }

    /// `BatonClient`'s cursor for this position.
    var clientCursor: String {
        let seconds = microseconds / 1_000_000
        let (year, month, day) = Self.civilFromDays(seconds / 86_400)
        let time = String(format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ", year, month, day,
                          seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60, microseconds % 1_000_000)
        return Data("\(time)|\(id)".utf8).base64EncodedString()
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day count since 1970-01-01 (the inverse of `daysFromCivil`), for days >= 0.
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
