import BatonCore
import Foundation
import Hummingbird
import NIOCore

/// JSON in and out. Responses are encoded with `JSONEncoder`; request bodies are read with a
/// size limit and checked member by member, so every complaint names the field (or the byte)
/// that was wrong.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func response(_ status: HTTPResponse.Status, _ json: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func response<T: Encodable>(_ status: HTTPResponse.Status = .ok, _ value: T, headers: HTTPFields = [:]) throws -> Response {
        let data = try encoder.encode(value)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The body as text, refusing more than `limit` bytes with 413 (a declared Content-Length
    /// over the limit is refused earlier, by `BodyLimitMiddleware`).
    static func text(of request: Request, limit: Int) async throws -> String {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge(limit)
        }
        guard let bytes = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes),
              let text = String(validating: bytes, as: UTF8.self) else {
            throw APIError.badJSON("the request body is not valid UTF-8; send JSON encoded as UTF-8")
        }
        return text
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, "body_too_large",
                 "the request body is larger than \(limit) bytes (BATON_API_MAX_BODY); send less")
    }

    /// A JSON object's members by name, refusing bad JSON (with line and column), a value that
    /// is not an object, repeated fields and fields not in `allowed`. An empty body is `{}`.
    static func object(_ text: String, allowed: Set<String>) throws -> Fields {
        if text.allSatisfy(\.isWhitespace) { return Fields(members: [:]) }
        let members: [(key: String, value: Substring)]?
        do {
            members = try JSONText.objectMembers(text)
        } catch {
            let (line, column) = position(of: error.offset, in: text)
            throw APIError.badJSON("the request body is not valid JSON: \(error.reason) at line \(line), column \(column)")
        }
        guard let members else { throw APIError.badJSON("the request body must be a JSON object") }
        var fields: [String: Substring] = [:]
        for (key, value) in members {
            guard allowed.contains(key) else {
                throw APIError(.badRequest, "unknown_field",
                               "unknown field '\(key)'; allowed fields: \(allowed.sorted().joined(separator: ", "))")
            }
            guard fields.updateValue(value, forKey: key) == nil else {
                throw APIError.badJSON("field '\(key)' appears more than once")
            }
        }
        return Fields(members: fields)
    }

    /// 1-based line and column (in characters) of a byte offset.
    static func position(of offset: Int, in text: String) -> (Int, Int) {
        var line = 1
        var column = 1
        var seen = 0
        for character in text {
            if seen >= offset { break }
            seen += character.utf8.count
            if character == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// The members of a request object, with typed accessors that name the field in errors.
    struct Fields {
        var members: [String: Substring]

        /// The value's JSON text as sent (nil when absent).
        func raw(_ name: String) -> String? { members[name].map(String.init) }

        /// A whole number in `range`. As in JSON Schema, `5.0` and `5e0` are whole numbers too.
        func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let raw = members[name] else { return nil }
            guard let value = JSONBody.wholeNumber(raw), range.contains(value) else {
                throw APIError.badParameter("field '\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \(raw.prefix(40)))")
            }
            return value
        }

        func bool(_ name: String) throws -> Bool? {
            switch members[name] {
            case nil: return nil
            case "true": return true
            case "false": return false
            case let raw?: throw APIError.badParameter("field '\(name)' must be true or false (got \(raw.prefix(40)))")
            }
        }

        func string(_ name: String, maxLength: Int = 200) throws -> String? {
            guard let raw = members[name] else { return nil }
            guard raw.first == "\"" else {
                throw APIError.badParameter("field '\(name)' must be a string (got \(raw.prefix(40)))")
            }
            let value = JSONText.unescape(raw.dropFirst().dropLast())
            // Counted in code points, as JSON Schema's maxLength and PostgreSQL's length() count.
            guard !value.isEmpty, value.unicodeScalars.count <= maxLength else {
                throw APIError.badParameter("field '\(name)' must have 1 to \(maxLength) characters")
            }
            return value
        }

        /// A JSON value passed on as sent (`input`, `result`), refused when it holds a number
        /// that could be stored but not read back: Baton reads numbers as `Decimal` or `Double`,
        /// so a magnitude past 1.8e308 (or a nonzero one below 5e-324) would break every later
        /// read of the session.
        func storable(_ name: String) throws -> String? {
            guard let raw = members[name] else { return nil }
            guard (try? JSONDecoder().decode(JSONValue.self, from: Data(raw.utf8))) != nil else {
                throw APIError.badParameter("field '\(name)' holds a number that a 64-bit float cannot hold (magnitude above 1.8e308, or nonzero below 5e-324); send it as a string")
            }
            return String(raw)
        }
    }

    /// The value of a JSON number text when it is a whole number that fits in `Int`
    /// (`12`, `-3`, `12.0`, `1.2e1`); nil for a fraction, anything else, or over 18 digits.
    static func wholeNumber(_ raw: Substring) -> Int? {
        if let value = Int(raw) { return value }
        var text = raw[...]
        var negative = false
        if text.first == "-" { negative = true; text = text.dropFirst() }
        let mantissaEnd = text.firstIndex { $0 == "e" || $0 == "E" } ?? text.endIndex
        var exponent = 0
        if mantissaEnd < text.endIndex {
            var exponentText = text[text.index(after: mantissaEnd)...]
            if exponentText.first == "+" { exponentText = exponentText.dropFirst() }
            guard let parsed = Int(exponentText), abs(parsed) < 1000 else { return nil }
            exponent = parsed
        }
        let mantissa = text[..<mantissaEnd]
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let integer = parts.first, !integer.isEmpty, integer.allSatisfy(\.isASCIIDigitCharacter) else { return nil }
        let fraction = parts.count > 1 ? parts[1] : ""
        guard fraction.allSatisfy(\.isASCIIDigitCharacter), parts.count == 1 || !fraction.isEmpty else { return nil }
        // The digits with the point moved `exponent` places right; what falls after it must be 0s.
        var digits = Array(integer + fraction)
        var point = integer.count + exponent
        if point < 0 { digits.insert(contentsOf: Array(repeating: "0", count: -point), at: 0); point = 0 }
        if point > digits.count { digits += Array(repeating: "0", count: point - digits.count) }
        guard digits[point...].allSatisfy({ $0 == "0" }) else { return nil }
        let whole = digits[..<point].drop { $0 == "0" }
        guard whole.count <= 18 else { return nil }
        let value = Int(String(whole)) ?? 0
        return negative ? -value : value
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
