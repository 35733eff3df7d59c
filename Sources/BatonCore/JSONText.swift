/// JSON as text: checking a handler's output before it is stored as `jsonb`, and quoting
/// strings into documents that are assembled from already-valid JSON fragments.
public enum JSONText {
    /// Why a text is not storable JSON.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        /// Byte offset of the problem.
        public var offset: Int
        public var reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// The deepest nesting accepted (PostgreSQL's parser has a stack limit too).
    public static let maxDepth = 512

    /// Checks that `text` is one JSON value (surrounding whitespace allowed) that PostgreSQL's
    /// `jsonb` can store: valid UTF-8, no `\u0000`, nesting at most `maxDepth`.
    public static func validate(_ text: String) throws(Invalid) {
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBufferPointer { buffer throws(Invalid) in
            var parser = Parser(bytes: UnsafeBufferPointer(buffer))
            parser.skipWhitespace()
            try parser.value(depth: 0)
            parser.skipWhitespace()
            if parser.index != buffer.count { throw parser.fail("unexpected text after the JSON value") }
        }
    }

    /// The members of a JSON object as (key, raw value text), in document order, after the same
    /// checks as `validate`; nil when `text` is valid JSON but not an object. The raw text lets a
    /// caller pass a value on to PostgreSQL exactly as sent (no float rounding of big numbers).
    public static func objectMembers(_ text: String) throws(Invalid) -> [(key: String, value: Substring)]? {
        let utf8 = text.utf8
        var bytes = Array(utf8)
        return try bytes.withUnsafeMutableBufferPointer { buffer throws(Invalid) -> [(key: String, value: Substring)]? in
            var parser = Parser(bytes: UnsafeBufferPointer(buffer))
            parser.skipWhitespace()
            guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "{") else {
                try validate(text)
                return nil
            }
            var members: [(key: String, value: Substring)] = []
            func slice(_ from: Int, _ to: Int) -> Substring {
                text[utf8.index(utf8.startIndex, offsetBy: from)..<utf8.index(utf8.startIndex, offsetBy: to)]
            }
            parser.index += 1
            parser.skipWhitespace()
            if parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "}") {
                parser.index += 1
            } else {
                while true {
                    parser.skipWhitespace()
                    guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "\"") else {
                        throw parser.fail("expected a string key")
                    }
                    let keyStart = parser.index
                    try parser.string()
                    let key = unescape(slice(keyStart + 1, parser.index - 1))
                    parser.skipWhitespace()
                    try parser.expect(UInt8(ascii: ":"))
                    parser.skipWhitespace()
                    let valueStart = parser.index
                    try parser.value(depth: 1)
                    members.append((key, slice(valueStart, parser.index)))
                    parser.skipWhitespace()
                    if try parser.endOrComma(UInt8(ascii: "}")) { break }
                }
            }
            parser.skipWhitespace()
            if parser.index != buffer.count { throw parser.fail("unexpected text after the JSON value") }
            return members
        }
    }

    /// The text of a JSON string body (between its quotes) that the parser accepted.
    public static func unescape(_ body: Substring) -> String {
        guard body.contains("\\") else { return String(body) }
        var out = String.UnicodeScalarView()
        var scalars = body.unicodeScalars.makeIterator()
        var pendingHigh: UInt32?
        func hex4() -> UInt32 {
            var code: UInt32 = 0
            for _ in 0..<4 { code = code << 4 | (scalars.next().flatMap { UInt32(String($0), radix: 16) } ?? 0) }
            return code
        }
        while let scalar = scalars.next() {
            guard scalar == "\\", let escaped = scalars.next() else { out.append(scalar); continue }
            switch escaped {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "b": out.append("\u{8}")
            case "f": out.append("\u{c}")
            case "u":
                let code = hex4()
                if (0xD800..<0xDC00).contains(code) { pendingHigh = code; continue }
                if (0xDC00..<0xE000).contains(code), let high = pendingHigh {
                    let combined = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
                    out.append(Unicode.Scalar(combined) ?? "\u{FFFD}")
                } else {
                    out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                }
            default: out.append(escaped)  // \" \\ \/
            }
            pendingHigh = nil
        }
        return String(out)
    }

    /// True when `validate` accepts `text`.
    public static func isValid(_ text: String) -> Bool {
        do { try validate(text); return true } catch { return false }
    }

    /// `value` as a JSON string literal, with quotes.
    public static func quote(_ value: String) -> String {
        // Most strings (ids, kinds) need no escape: one scan of the bytes, one concatenation.
        if !value.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
            return "\"" + value + "\""
        }
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        func fail(_ reason: String) -> Invalid { Invalid(offset: index, reason: reason) }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) throws(Invalid) {
            guard depth <= JSONText.maxDepth else { throw fail("nesting deeper than \(JSONText.maxDepth)") }
            guard index < bytes.count else { throw fail(index == 0 ? "empty text, expected a JSON value" : "unexpected end of JSON") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return }
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                    try string()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                    try value(depth: depth + 1)
                    skipWhitespace()
                    if try endOrComma(UInt8(ascii: "}")) { return }
                }
            case UInt8(ascii: "["):
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return }
                while true {
                    skipWhitespace()
                    try value(depth: depth + 1)
                    skipWhitespace()
                    if try endOrComma(UInt8(ascii: "]")) { return }
                }
            case UInt8(ascii: "\""): try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw fail("unexpected character, expected a JSON value")
            }
        }

        mutating func endOrComma(_ close: UInt8) throws(Invalid) -> Bool {
            guard index < bytes.count else { throw fail("unexpected end of JSON") }
            if bytes[index] == close { index += 1; return true }
            if bytes[index] == UInt8(ascii: ",") { index += 1; return false }
            throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'")
        }

        mutating func expect(_ byte: UInt8) throws(Invalid) {
            guard index < bytes.count, bytes[index] == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
            index += 1
        }

        mutating func literal(_ word: String) throws(Invalid) {
            let expected = Array(word.utf8)
            guard index + expected.count <= bytes.count else { throw fail("unexpected end of JSON") }
            for i in 0..<expected.count where bytes[index + i] != expected[i] { throw fail("invalid literal") }
            index += expected.count
        }

        mutating func number() throws(Invalid) {
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { throw fail("unexpected end of number") }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                try digits()
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                try digits()
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                try digits()
            }
        }

        mutating func digits() throws(Invalid) {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            if index == start { throw fail("expected a digit") }
        }

        mutating func string() throws(Invalid) {
            index += 1  // opening quote
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { throw fail("unexpected end of string") }
                    switch bytes[index] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                         UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 1
                    case UInt8(ascii: "u"):
                        let code = try unicodeEscape()
                        if code == 0 { throw fail("\\u0000 cannot be stored in jsonb") }
                        // jsonb takes a UTF-16 surrogate only as a high one followed by a low one.
                        if (0xDC00..<0xE000).contains(code) { throw fail("unpaired UTF-16 surrogate in a \\u escape") }
                        if (0xD800..<0xDC00).contains(code) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                                throw fail("unpaired UTF-16 surrogate in a \\u escape")
                            }
                            index += 1
                            let low = try unicodeEscape()
                            guard (0xDC00..<0xE000).contains(low) else {
                                throw fail("unpaired UTF-16 surrogate in a \\u escape")
                            }
                        }
                    default: throw fail("invalid escape")
                    }
                case 0..<0x20:
                    throw fail("control character in string")
                case 0x80...:
                    try utf8Sequence()
                default:
                    index += 1
                }
            }
            throw fail("unterminated string")
        }

        /// The code unit of a `\uXXXX` escape whose `u` is at `index`; moves past it.
        mutating func unicodeEscape() throws(Invalid) -> UInt32 {
            guard index + 4 < bytes.count else { throw fail("short \\u escape") }
            var code: UInt32 = 0
            for i in 1...4 {
                guard let digit = hexValue(bytes[index + i]) else { throw fail("invalid \\u escape") }
                code = code << 4 | digit
            }
            index += 5
            return code
        }

        func hexValue(_ b: UInt8) -> UInt32? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
            default: nil
            }
        }

        /// Swift Strings hold valid UTF-8 already; this only steps over a multi-byte sequence.
        mutating func utf8Sequence() throws(Invalid) {
            let lead = bytes[index]
            let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
            guard index + length <= bytes.count else { throw fail("truncated UTF-8") }
            index += length
        }
    }
}
