/// How long finished sessions are kept (`BATON_RETENTION`): a default and per-kind rules, each
/// a number of seconds or `nil` to keep forever. Parsed from text such as
/// `14d`, `36h,reports=90d,scratch=off`: the first entry without a `kind=` is the default.
public struct RetentionPolicy: Sendable, Equatable {
    /// Seconds after its last change that a finished session of a kind without a rule is
    /// deleted; nil keeps them.
    public var defaultSeconds: Int?
    /// Rules for single kinds, which win over the default; a nil value keeps that kind.
    public var kinds: [String: Int?]

    /// Fourteen days, for every kind.
    public static let standard = RetentionPolicy(defaultSeconds: 14 * 86_400)

    public init(defaultSeconds: Int?, kinds: [String: Int?] = [:]) {
        self.defaultSeconds = defaultSeconds
        self.kinds = kinds
    }

    /// True when nothing is ever deleted.
    public var keepsEverything: Bool { defaultSeconds == nil && kinds.values.allSatisfy { $0 == nil } }

    /// Reads a policy; entries are comma-separated, blanks around them ignored.
    public init(parsing text: String) throws(RetentionError) {
        var defaultSeconds: Int?? = nil
        var kinds: [String: Int?] = [:]
        let entries = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { trimmed($0) }
        guard !(entries.count == 1 && entries[0].isEmpty) else { throw .empty }
        for entry in entries {
            guard !entry.isEmpty else { throw .emptyEntry(text) }
            if let equals = entry.firstIndex(of: "=") {
                let kind = trimmed(entry[..<equals])
                let value = trimmed(entry[entry.index(after: equals)...])
                guard Self.isKindName(kind) else { throw .badKind(kind) }
                guard kinds[kind] == nil else { throw .duplicateKind(kind) }
                kinds[kind] = try Self.seconds(value)
            } else {
                guard defaultSeconds == nil else { throw .twoDefaults(text) }
                defaultSeconds = .some(try Self.seconds(entry))
            }
        }
        // Only rules for kinds: the others keep the standard fourteen days.
        self.init(defaultSeconds: defaultSeconds ?? RetentionPolicy.standard.defaultSeconds, kinds: kinds)
    }

    /// `off`, or a whole number followed by d, h, m or s (at least one minute in all).
    static func seconds(_ text: String) throws(RetentionError) -> Int? {
        if text.lowercased() == "off" { return nil }
        let digits = text.dropLast()
        guard let unit = text.last, let multiplier = ["d": 86_400, "h": 3_600, "m": 60, "s": 1][String(unit)],
              !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let number = Int(digits) else {
            throw .badDuration(text)
        }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, seconds <= 100 * 365 * 86_400 else { throw .badDuration(text) }
        guard seconds >= 60 else { throw .tooShort(text) }
        return seconds
    }

    /// The kinds Baton accepts (see baton.create_session).
    static func isKindName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 100 && text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_.:-".unicodeScalars.contains($0)
        }
    }
}

/// `text` without blanks at either end.
private func trimmed(_ text: Substring) -> String {
    String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
}

/// What is wrong with a `BATON_RETENTION` text, said so that it can be fixed.
public enum RetentionError: Error, Equatable, CustomStringConvertible {
    case empty
    case emptyEntry(String)
    case badDuration(String)
    case tooShort(String)
    case badKind(String)
    case duplicateKind(String)
    case twoDefaults(String)

    public var description: String {
        switch self {
        case .empty: "BATON_RETENTION is empty: give a duration such as 14d, or off"
        case .emptyEntry(let text): "BATON_RETENTION '\(text)' has an empty entry between commas"
        case .badDuration(let text): "BATON_RETENTION: '\(text)' is not a duration: write a whole number with d, h, m or s (e.g. 14d, 36h), or off"
        case .tooShort(let text): "BATON_RETENTION: '\(text)' is shorter than a minute: finished sessions must stay readable for a while"
        case .badKind(let kind): "BATON_RETENTION: '\(kind)' is not a kind (1 to 100 letters, digits or _.:-)"
        case .duplicateKind(let kind): "BATON_RETENTION names kind '\(kind)' twice"
        case .twoDefaults(let text): "BATON_RETENTION '\(text)' has two defaults: only one entry may go without kind="
        }
    }
}
