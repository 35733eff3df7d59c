/// Why a cron expression was refused. The message names the field and says what is allowed.
///
/// `baton.cron_check` (sql/functions/cron_check.sql) raises SQLSTATE BT400 with exactly the same text for
/// the same input, so a person sees one wording whether Swift or PostgreSQL refused it
/// (`CronContractTests` compares the two on thousands of expressions). Change a message here
/// and there together.
public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The five fields, named as messages name them.
    public enum Field: String, Sendable, CaseIterable {
        case minute, hour, dayOfMonth = "day-of-month", month, dayOfWeek = "day-of-week"
    }

    /// The field at fault; nil for errors about the whole expression (wrong number of fields,
    /// unknown macro, never fires).
    public var field: Field?
    /// The whole message.
    public var message: String
    public var description: String { message }

    /// An error with this field and message (the parser writes them; tests compare them).
    public init(field: Field?, message: String) {
        self.field = field
        self.message = message
    }
}

/// The wording of every refusal, in one place because the SQL twin must say the same.
enum CronMessage {
    static let macros = "@yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"

    static func prefix(_ expression: String) -> String {
        "cron expression '\(expression)' is not valid: "
    }

    static func fieldCount(_ expression: String, got count: Int) -> CronError {
        CronError(field: nil, message: prefix(expression)
            + "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got \(count)")
    }

    static func unknownMacro(_ expression: String) -> CronError {
        CronError(field: nil, message: prefix(expression) + "unknown macro; use \(macros)")
    }

    static func neverFires(_ expression: String, dayOfMonth: String, month: String) -> CronError {
        CronError(field: nil, message: prefix(expression)
            + "it never fires: no month in the month field '\(month)' has a day in the day-of-month field '\(dayOfMonth)'")
    }

    /// A field's error: `the <field> field '<text>' <problem>`.
    static func field(_ expression: String, _ spec: CronFieldSpec, _ text: String, _ problem: String) -> CronError {
        CronError(field: spec.field, message: prefix(expression) + "the \(spec.field.rawValue) field '\(text)' \(problem)")
    }

    /// "is" when the token is the whole field, else "has '<token>', which is": so `'61' is out
    /// of range` but `'1,61' has '61', which is out of range`.
    static func subject(_ token: String, in fieldText: String) -> String {
        token == fieldText ? "is" : "has '\(token)', which is"
    }

    static func junk(_ character: Unicode.Scalar, _ spec: CronFieldSpec) -> String {
        switch spec.field {
        case .month: "contains '\(character)'; use only digits, month names and * , - /"
        case .dayOfWeek: "contains '\(character)'; use only digits, day names and * , - /"
        default: "contains '\(character)'; use only digits and * , - /"
        }
    }

    static func nameInNumericField(_ name: String, _ spec: CronFieldSpec) -> String {
        "has the name '\(name)'; use numbers \(spec.low)-\(spec.high)"
    }

    static let emptyItem = "has an empty list item; put exactly one value, range or step between commas"

    static func malformed(_ item: String, in fieldText: String) -> String {
        subject(item, in: fieldText) + " not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas"
    }

    static func unknownName(_ token: String, in fieldText: String, _ spec: CronFieldSpec) -> String {
        subject(token, in: fieldText) + " an unknown name; use \(spec.namesRange)"
    }

    static func outOfRange(_ token: String, in fieldText: String, _ spec: CronFieldSpec) -> String {
        subject(token, in: fieldText) + " out of range; use \(spec.allowed)"
    }

    static func backwards(_ token: String, in fieldText: String) -> String {
        subject(token, in: fieldText) + " a backward range; write the smaller value first"
    }

    static func step(_ token: String, _ spec: CronFieldSpec) -> String {
        "has the step '\(token)', which is out of range; use a step of 1-\(spec.high)"
    }
}
