/// A standard five-field cron expression, validated: `minute hour day-of-month month day-of-week`.
///
/// Fields are separated by runs of whitespace (space, tab, line feed, vertical tab, form feed,
/// carriage return); the same characters around the expression are trimmed. Each field is a
/// comma list of items, each `*`, `n`, `a-b`, `*/s`, `a-b/s` or `n/s` (n up to the field's
/// end, step s). Bounds: minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
/// day-of-week 0-7 (0 and 7 are Sunday) or SUN-SAT. Names are three letters, any case, and may
/// bound ranges (`MON-FRI`). A step runs from 1 to the field's maximum.
///
/// Macros (any case): `@yearly` = `@annually` = `0 0 1 1 *`, `@monthly` = `0 0 1 * *`,
/// `@weekly` = `0 0 * * 0`, `@daily` = `@midnight` = `0 0 * * *`, `@hourly` = `0 * * * *`.
///
/// Day rule (Vixie cron): when day-of-month and day-of-week both restrict (neither is written
/// `*` or `*/1`), a day matches if either matches; when one of them is `*` or `*/1`, only the
/// other counts. An expression that can never fire (`0 0 30 2 *`) is refused.
///
/// `baton.cron_check` (sql/functions/cron_check.sql) accepts exactly the same expressions and refuses the
/// rest with the same messages.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as given, without surrounding whitespace.
    public let text: String
    /// Whether the hour field is `*` (or `*/1`): decides how DST gaps and repeats are
    /// handled (see `ScheduleRule`).
    public var everyHour: Bool { hours.isStar }
    /// Whether the day-of-month field restricts (is not `*` or `*/1`).
    public var restrictsDayOfMonth: Bool { !daysOfMonth.isStar }
    /// Whether the day-of-week field restricts (is not `*` or `*/1`).
    public var restrictsDayOfWeek: Bool { !daysOfWeek.isStar }

    let minutes: CronFieldValues
    let hours: CronFieldValues
    let daysOfMonth: CronFieldValues
    let months: CronFieldValues
    let daysOfWeek: CronFieldValues

    public var description: String { text }

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Parses and validates `text`; the error names the field at fault.
    public init(_ text: String) throws(CronError) {
        let trimmed = Self.trimmed(text)
        self.text = trimmed
        var source = trimmed
        if trimmed.unicodeScalars.first == "@" {
            guard let expansion = Self.macros[CronScalar.asciiLowercased(trimmed)] else {
                throw CronMessage.unknownMacro(trimmed)
            }
            source = expansion
        }
        let fields = Self.fields(source)
        guard fields.count == 5 else { throw CronMessage.fieldCount(trimmed, got: fields.count) }
        minutes = try CronFieldSpec.minute.parse(fields[0], expression: trimmed)
        hours = try CronFieldSpec.hour.parse(fields[1], expression: trimmed)
        daysOfMonth = try CronFieldSpec.dayOfMonth.parse(fields[2], expression: trimmed)
        months = try CronFieldSpec.month.parse(fields[3], expression: trimmed)
        daysOfWeek = try CronFieldSpec.dayOfWeek.parse(fields[4], expression: trimmed)
        // Only day-of-month can rule out every day: every month has every weekday.
        if restrictsDayOfMonth && !restrictsDayOfWeek {
            let longest = Self.bits(months.mask).map { CivilCalendar.longestMonth($0) }.max() ?? 0
            let earliest = Self.bits(daysOfMonth.mask).min() ?? Int.max
            if earliest > longest {
                throw CronMessage.neverFires(trimmed, dayOfMonth: fields[2], month: fields[3])
            }
        }
    }

    /// The values a field allows, ascending. Day-of-week gives 0-6 (7 is reported as 0).
    public func values(of field: CronError.Field) -> [Int] {
        Self.bits(fieldValues(field).mask)
    }

    /// The day rule: `weekday` is 0 for Sunday through 6 for Saturday.
    func matchesDay(day: Int, weekday: Int) -> Bool {
        switch (restrictsDayOfMonth, restrictsDayOfWeek) {
        case (true, true): Self.has(daysOfMonth.mask, day) || Self.has(daysOfWeek.mask, weekday)
        case (true, false): Self.has(daysOfMonth.mask, day)
        case (false, true): Self.has(daysOfWeek.mask, weekday)
        case (false, false): true
        }
    }

    func fieldValues(_ field: CronError.Field) -> CronFieldValues {
        switch field {
        case .minute: minutes
        case .hour: hours
        case .dayOfMonth: daysOfMonth
        case .month: months
        case .dayOfWeek: daysOfWeek
        }
    }

    static func has(_ mask: UInt64, _ value: Int) -> Bool {
        value >= 0 && value < 64 && mask & (1 << UInt64(value)) != 0
    }

    static func bits(_ mask: UInt64) -> [Int] {
        (0..<64).filter { mask & (1 << UInt64($0)) != 0 }
    }

    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !CronScalar.isSpace($0) }),
              let last = scalars.lastIndex(where: { !CronScalar.isSpace($0) }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// Splits on runs of whitespace, working on Unicode scalars so that "\r\n" (one Swift
    /// Character) separates like PostgreSQL's regular expressions see it.
    static func fields(_ text: String) -> [String] {
        var fields: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if CronScalar.isSpace(scalar) {
                if !current.isEmpty { fields.append(String(current)) }
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { fields.append(String(current)) }
        return fields
    }
}
