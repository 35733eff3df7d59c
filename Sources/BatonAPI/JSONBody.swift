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

        func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let raw = members[name] else { return nil }
            guard let value = Int(raw), range.contains(value) else {
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
            guard !value.isEmpty, value.count <= maxLength else {
                throw APIError.badParameter("field '\(name)' must have 1 to \(maxLength) characters")
            }
            return value
        }
    }
}
