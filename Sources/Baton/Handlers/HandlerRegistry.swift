import Foundation

/// Which handler runs which kind of session, from `BATON_HANDLER`:
/// one spec for every kind (`builtin:echo`, `builtin:probe`, `command:/path/prog args`, `http(s)://…`), or a
/// comma-separated map (`ingest=command:./ingest,default=builtin:echo`). In a map, a spec
/// without `kind=` applies to every kind not named.
public struct HandlerRegistry: Sendable {
    public var byKind: [String: any StepHandler]
    public var fallback: (any StepHandler)?

    public init(byKind: [String: any StepHandler] = [:], fallback: (any StepHandler)? = nil) {
        self.byKind = byKind
        self.fallback = fallback
    }

    /// One handler for every kind.
    public init(_ handler: any StepHandler) {
        self.init(byKind: [:], fallback: handler)
    }

    /// The handler for `kind`, if any.
    public func handler(for kind: String) -> (any StepHandler)? { byKind[kind] ?? fallback }

    /// The kinds this registry can serve, or nil for all.
    public var servedKinds: [String]? { fallback == nil ? byKind.keys.sorted() : nil }

    /// A handler spec that cannot be used.
    public struct InvalidSpec: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `BATON_HANDLER`; `maxOutputBytes` limits what command and HTTP handlers may
    /// return, `timeoutMs` (`WORKER_TIMEOUT`) bounds an HTTP exchange.
    public static func parse(_ spec: String, maxOutputBytes: Int = 1 << 20, timeoutMs: Int = 300_000) throws -> HandlerRegistry {
        var registry = HandlerRegistry()
        let parts = splitMap(spec)
        guard !parts.isEmpty else {
            throw InvalidSpec(description: "BATON_HANDLER is empty; use builtin:echo, command:/path/to/program or a kind=spec list")
        }
        for part in parts {
            if let equals = part.firstIndex(of: "="), !part[..<equals].contains(":") {
                let kind = String(part[..<equals]).trimmingCharacters(in: .whitespaces)
                let handler = try handlerFor(String(part[part.index(after: equals)...]), maxOutputBytes: maxOutputBytes, timeoutMs: timeoutMs)
                guard !kind.isEmpty else { throw InvalidSpec(description: "BATON_HANDLER entry '\(part)' has an empty kind") }
                registry.byKind[kind] = handler
            } else {
                registry.fallback = try handlerFor(part, maxOutputBytes: maxOutputBytes, timeoutMs: timeoutMs)
            }
        }
        return registry
    }

    /// Entries are separated by commas, so a command's arguments (and a handler URL) cannot
    /// contain commas.
    private static func splitMap(_ spec: String) -> [String] {
        spec.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func handlerFor(_ raw: String, maxOutputBytes: Int, timeoutMs: Int) throws -> any StepHandler {
        let spec = raw.trimmingCharacters(in: .whitespaces)
        if spec == "builtin:echo" { return EchoHandler() }
        // The benchmarks' handler: reports to PEERS_SOCK, does nothing else.
        if spec == "builtin:probe" { return ProbeHandler.fromEnvironment() }
        if spec.hasPrefix("command:") {
            let words = spec.dropFirst("command:".count).split(separator: " ").map(String.init)
            guard let program = words.first else {
                throw InvalidSpec(description: "BATON_HANDLER '\(spec)' names no program; use command:/path/to/program")
            }
            return try CommandHandler(program: program, arguments: Array(words.dropFirst()), maxOutputBytes: maxOutputBytes)
        }
        if spec.hasPrefix("http://") || spec.hasPrefix("https://") {
            return try HTTPHandler(url: spec, timeoutMs: timeoutMs, maxOutputBytes: maxOutputBytes)
        }
        throw InvalidSpec(description: "unknown handler '\(spec)'; use builtin:echo, builtin:probe, command:/path/to/program, or http(s)://…")
    }
}
