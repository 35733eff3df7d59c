import Foundation

/// Checks JSON values against the schemas of Baton's OpenAPI document (the subset it uses).
struct SchemaValidator {
    struct Operation: Hashable, CustomStringConvertible {
        var method: String
        var path: String
        var description: String { "\(method) \(path)" }
    }

    struct NotAnObject: Error {}

    let document: [String: Any]

    init(openAPIJSON: String) throws {
        guard let object = try JSONSerialization.jsonObject(with: Data(openAPIJSON.utf8)) as? [String: Any] else {
            throw NotAnObject()
        }
        document = object
    }

    /// Problems found, each naming the JSON path (e.g. "$.steps[0].attempts[1].outcome"); empty when valid.
    func problems(_ value: Any, against schema: [String: Any], at path: String = "$") -> [String] {
        if let ref = schema["$ref"] as? String {
            guard let target = resolve(ref) as? [String: Any] else { return ["\(path): unresolved $ref \(ref)"] }
            return problems(value, against: target, at: path)
        }
        let types = (schema["type"] as? String).map { [$0] } ?? schema["type"] as? [String]
        if let types, !types.contains(where: { Self.value(value, is: $0) }) {
            // A wrong type makes the other keywords meaningless; one problem is enough.
            return ["\(path): expected \(types.joined(separator: " or ")), got \(Self.kind(of: value))"]
        }
        var found: [String] = []
        if let allowed = schema["enum"] as? [String], !allowed.contains(where: { $0 == value as? String }) {
            found.append("\(path): \(value) is not one of \(allowed)")
        }
        // Keywords apply according to the kind of value, as in JSON Schema.
        if let string = value as? String {
            let length = string.unicodeScalars.count  // JSON Schema counts code points
            if let min = schema["minLength"] as? NSNumber, Double(length) < min.doubleValue {
                found.append("\(path): shorter than \(min)")
            }
            if let max = schema["maxLength"] as? NSNumber, Double(length) > max.doubleValue {
                found.append("\(path): longer than \(max)")
            }
        } else if let number = value as? NSNumber, !Self.isBoolean(number) {
            if let min = schema["minimum"] as? NSNumber, number.doubleValue < min.doubleValue {
                found.append("\(path): \(number) is below \(min)")
            }
            if let max = schema["maximum"] as? NSNumber, number.doubleValue > max.doubleValue {
                found.append("\(path): \(number) is above \(max)")
            }
        } else if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                found.append("\(path): missing required \"\(key)\"")
            }
            for key in object.keys.sorted() {
                let child = "\(path).\(key)"
                if let propertySchema = properties[key] as? [String: Any] {
                    found += problems(object[key]!, against: propertySchema, at: child)
                } else if let extra = schema["additionalProperties"] as? [String: Any] {
                    found += problems(object[key]!, against: extra, at: child)
                } else if let allowed = schema["additionalProperties"] as? NSNumber, !allowed.boolValue {
                    found.append("\(child): property not allowed")
                }
            }
        } else if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() {
                found += problems(element, against: items, at: "\(path)[\(index)]")
            }
        }
        return found
    }

    /// The schema of a response: document.paths[path][method].responses[status] (following a
    /// `$ref`).content[contentType].schema (nil if the document has none).
    func responseSchema(path: String, method: String, status: Int, contentType: String = "application/json") -> [String: Any]? {
        let paths = document["paths"] as? [String: Any]
        let operation = (paths?[path] as? [String: Any])?[method.lowercased()] as? [String: Any]
        var response = (operation?["responses"] as? [String: Any])?[String(status)] as? [String: Any]
        // Shared responses live under components/responses.
        if let ref = response?["$ref"] as? String { response = resolve(ref) as? [String: Any] }
        let media = (response?["content"] as? [String: Any])?[contentType] as? [String: Any]
        return media?["schema"] as? [String: Any]
    }

    /// All (METHOD, path) pairs in the document, method uppercased, e.g. ("GET", "/api/sessions/{id}").
    var operations: Set<Operation> {
        // A path item also holds non-operation keys (parameters, summary, ...); keep HTTP methods only.
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var result: Set<Operation> = []
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for key in (item as? [String: Any] ?? [:]).keys where methods.contains(key) {
                result.insert(Operation(method: key.uppercased(), path: path))
            }
        }
        return result
    }

    /// Follows a local JSON pointer such as "#/components/schemas/Session".
    private func resolve(_ ref: String) -> Any? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: Any? = document
        for token in ref.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            node = (node as? [String: Any])?[key]
        }
        return node
    }

    /// On Linux a JSON boolean is an NSNumber that also casts to Int (and 0/1 cast to Bool), so
    /// only its type encoding ("c", char) tells it apart.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    private static func value(_ value: Any, is type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "string": return value is String
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "boolean", "number", "integer":
            guard let number = value as? NSNumber, !(value is String) else { return false }
            if type == "boolean" { return isBoolean(number) }
            if isBoolean(number) { return false }
            let double = number.doubleValue
            return type == "number" || (double.isFinite && double.rounded(.towardZero) == double)
        default: return false
        }
    }

    private static func kind(of value: Any) -> String {
        for type in ["null", "boolean", "integer", "number", "string", "object", "array"] where Self.value(value, is: type) {
            return type
        }
        return "\(Swift.type(of: value))"
    }
}
