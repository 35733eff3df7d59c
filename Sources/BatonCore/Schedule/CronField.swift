/// One of the five fields of a cron expression: its bounds and, for month and day-of-week,
/// its names.
struct CronFieldSpec: Sendable {
    let field: CronError.Field
    let low: Int
    let high: Int
    /// Three-letter names; `names[i]` stands for `nameBase + i`.
    let names: [String]
    let nameBase: Int

    static let minute = CronFieldSpec(field: .minute, low: 0, high: 59, names: [], nameBase: 0)
    static let hour = CronFieldSpec(field: .hour, low: 0, high: 23, names: [], nameBase: 0)
    static let dayOfMonth = CronFieldSpec(field: .dayOfMonth, low: 1, high: 31, names: [], nameBase: 0)
    static let month = CronFieldSpec(
        field: .month, low: 1, high: 12,
        names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], nameBase: 1)
    /// 0 and 7 are both Sunday.
    static let dayOfWeek = CronFieldSpec(
        field: .dayOfWeek, low: 0, high: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], nameBase: 0)

    /// In the order they are written.
    static let all: [CronFieldSpec] = [minute, hour, dayOfMonth, month, dayOfWeek]

    /// What an out-of-range message offers instead.
    var allowed: String {
        names.isEmpty ? "\(low)-\(high)" : "\(low)-\(high) or \(namesRange)"
    }

    var namesRange: String { names.isEmpty ? "" : "\(names.first!)-\(names.last!)" }
}

/// A parsed field: the values it allows as bits, and whether it was written as "every value".
struct CronFieldValues: Sendable, Hashable {
    /// Bit v set when value v is allowed; day-of-week 7 is stored as 0 (both are Sunday).
    var mask: UInt64
    /// Written as `*` or `*/1`: the field restricts nothing. This matters for the day rule
    /// (day-of-month or day-of-week) and, for the hour field, for the DST policy. `1-31`,
    /// `*/2` or `*,5` count as restrictions even when they allow every value, as in Vixie
    /// cron, because the rule looks at how the field is written.
    var isStar: Bool
}

extension CronFieldSpec {
    /// Parses `text` (one whitespace-free field). Checks run in a fixed order, which
    /// `baton.cron_check` follows too, so both report the same first problem:
    /// 1. a character that is not a digit, an ASCII letter or one of `* , - /`;
    /// 2. a letter in a field without names;
    /// 3. per comma-separated item, left to right: empty, malformed, start value (unknown
    ///    name or out of range), end value, backward range, step.
    func parse(_ text: String, expression: String) throws(CronError) -> CronFieldValues {
        func fail(_ problem: String) -> CronError { CronMessage.field(expression, self, text, problem) }

        if let junk = text.unicodeScalars.first(where: { !CronScalar.mayAppearInField($0) }) {
            throw fail(CronMessage.junk(junk, self))
        }
        // Only ASCII is left, so bytes and characters are the same from here on.
        let bytes = Array(text.utf8)
        if names.isEmpty, let first = bytes.firstIndex(where: CronScalar.isLetter) {
            let run = bytes[first...].prefix(while: CronScalar.isLetter)
            throw fail(CronMessage.nameInNumericField(String(decoding: run, as: UTF8.self), self))
        }
        var mask: UInt64 = 0
        var star = false
        let items = bytes.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        for itemBytes in items {
            guard !itemBytes.isEmpty else { throw fail(CronMessage.emptyItem) }
            let item = String(decoding: itemBytes, as: UTF8.self)
            guard let shape = CronItemShape(Array(itemBytes)) else { throw fail(CronMessage.malformed(item, in: text)) }
            var first = low, last = high
            if let start = shape.start {
                first = try value(start, fieldText: text, fail)
                if let end = shape.end {
                    last = try value(end, fieldText: text, fail)
                    if first > last { throw fail(CronMessage.backwards("\(start)-\(end)", in: text)) }
                } else if shape.step == nil {
                    last = first  // a single value; `n/s` runs from n to the field's end
                }
            }
            var step = 1
            if let stepText = shape.step {
                step = CronScalar.saturatingNumber(stepText)
                guard (1...high).contains(step) else { throw fail(CronMessage.step(stepText, self)) }
            }
            for v in stride(from: first, through: last, by: step) {
                mask |= 1 << UInt64(field == .dayOfWeek && v == 7 ? 0 : v)
            }
            star = items.count == 1 && shape.start == nil && step == 1
        }
        return CronFieldValues(mask: mask, isStar: star)
    }

    /// A number or a name, checked against this field.
    private func value(_ token: String, fieldText: String, _ fail: (String) -> CronError) throws(CronError) -> Int {
        if let first = token.utf8.first, CronScalar.isLetter(first) {
            guard let index = names.firstIndex(of: CronScalar.asciiUppercased(token)) else {
                throw fail(CronMessage.unknownName(token, in: fieldText, self))
            }
            return nameBase + index
        }
        let number = CronScalar.saturatingNumber(token)
        guard (low...high).contains(number) else { throw fail(CronMessage.outOfRange(token, in: fieldText, self)) }
        return number
    }
}

/// The shape of one list item: `*`, `v`, `v-v`, each optionally followed by `/digits`, where
/// v is digits or letters. Nil when the item has another shape.
struct CronItemShape {
    /// Nil for `*`.
    var start: String?
    var end: String?
    var step: String?

    init?(_ bytes: [UInt8]) {
        var i = 0
        func run(_ matches: (UInt8) -> Bool) -> String? {
            let from = i
            while i < bytes.count && matches(bytes[i]) { i += 1 }
            return i > from ? String(decoding: bytes[from..<i], as: UTF8.self) : nil
        }
        func token() -> String? { run(CronScalar.isDigit) ?? run(CronScalar.isLetter) }
        if i < bytes.count && bytes[i] == UInt8(ascii: "*") {
            i += 1
        } else {
            guard let s = token() else { return nil }
            start = s
            if i < bytes.count && bytes[i] == UInt8(ascii: "-") {
                i += 1
                guard let e = token() else { return nil }
                end = e
            }
        }
        if i < bytes.count && bytes[i] == UInt8(ascii: "/") {
            i += 1
            guard let s = run(CronScalar.isDigit) else { return nil }
            step = s
        }
        guard i == bytes.count else { return nil }
    }
}

/// ASCII-only character classes. Unicode digits, letters and case mappings would let Swift
/// and PostgreSQL (whose `upper` follows the database's locale) disagree.
enum CronScalar {
    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.isASCII && isDigit(UInt8(s.value)) }
    static func isLetter(_ s: Unicode.Scalar) -> Bool { s.isASCII && isLetter(UInt8(s.value)) }
    static func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }
    static func mayAppearInField(_ s: Unicode.Scalar) -> Bool {
        isDigit(s) || isLetter(s) || s == "*" || s == "," || s == "-" || s == "/"
    }
    static func isLetter(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
    /// The field separators: space, tab, line feed, vertical tab, form feed, carriage return.
    static func isSpace(_ s: Unicode.Scalar) -> Bool { s == " " || (0x09...0x0D).contains(s.value) }

    static func asciiUppercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 }, as: UTF8.self)
    }

    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// The value of a run of ASCII digits, capped at 1,000,000 (far above every bound), so
    /// `0000000000005` is 5 and a thousand nines is simply out of range.
    static func saturatingNumber(_ digits: String) -> Int {
        var value = 0
        for b in digits.utf8 { value = min(value * 10 + Int(b - 0x30), 1_000_000) }
        return value
    }
}
