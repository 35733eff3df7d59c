import BatonCore
import Testing

/// The parser: every bound of every field, names, lists, ranges, steps, macros, whitespace,
/// and the exact message (and field) of every kind of refusal.
@Suite struct CronExpressionTests {
    typealias Field = CronError.Field

    /// (field, lowest, highest, position among the five)
    static let bounds: [(Field, Int, Int, Int)] = [
        (.minute, 0, 59, 0), (.hour, 0, 23, 1), (.dayOfMonth, 1, 31, 2), (.month, 1, 12, 3), (.dayOfWeek, 0, 7, 4),
    ]

    /// `* * * * *` with one field replaced.
    func expression(_ text: String, at position: Int) -> String {
        var fields = ["*", "*", "*", "*", "*"]
        fields[position] = text
        return fields.joined(separator: " ")
    }

    func error(_ text: String) -> CronError? {
        do {
            _ = try CronExpression(text)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: bounds.map { $0.0 })
    func everyValueInRangeIsAcceptedAndTheNeighboursAreNot(_ field: Field) throws {
        let (_, low, high, position) = try #require(Self.bounds.first { $0.0 == field })
        for value in low...high {
            let cron = try CronExpression(expression(String(value), at: position))
            #expect(cron.values(of: field) == [field == .dayOfWeek && value == 7 ? 0 : value], "\(field) \(value)")
            for other in Field.allCases where other != field {
                let (_, otherLow, otherHigh, _) = Self.bounds.first { $0.0 == other }!
                let all = Array(otherLow...(other == .dayOfWeek ? 6 : otherHigh))
                #expect(cron.values(of: other) == all)
            }
        }
        let allowed = switch field {
        case .month: "1-12 or JAN-DEC"
        case .dayOfWeek: "0-7 or SUN-SAT"
        default: "\(low)-\(high)"
        }
        let above = expression(String(high + 1), at: position)
        #expect(error(above) == CronError(field: field, message:
            "cron expression '\(above)' is not valid: the \(field.rawValue) field '\(high + 1)' is out of range; use \(allowed)"))
        // Below the lowest: 0 for fields starting at 1; "-1" is no number at all.
        let below = expression(String(low - 1), at: position)
        let belowProblem = low == 0
            ? "is not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas"
            : "is out of range; use \(allowed)"
        #expect(error(below) == CronError(field: field, message:
            "cron expression '\(below)' is not valid: the \(field.rawValue) field '\(low - 1)' \(belowProblem)"))
    }

    @Test func namesInAnyCaseAndInRanges() throws {
        let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        for (index, name) in months.enumerated() {
            for spelling in [name, name.lowercased(), String(name.prefix(1)) + name.dropFirst().lowercased()] {
                #expect(try CronExpression("0 0 1 \(spelling) *").values(of: .month) == [index + 1])
            }
        }
        let days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        for (index, name) in days.enumerated() {
            for spelling in [name, name.lowercased(), "\(name.prefix(2))\(name.suffix(1).lowercased())"] {
                #expect(try CronExpression("0 0 * * \(spelling)").values(of: .dayOfWeek) == [index])
            }
        }
        #expect(try CronExpression("0 0 * * MON-FRI").values(of: .dayOfWeek) == [1, 2, 3, 4, 5])
        #expect(try CronExpression("0 0 * jan-Mar *").values(of: .month) == [1, 2, 3])
        #expect(try CronExpression("0 0 * * FRI-7").values(of: .dayOfWeek) == [0, 5, 6])
        #expect(try CronExpression("0 0 * * 1-sat/2").values(of: .dayOfWeek) == [1, 3, 5])
        #expect(try CronExpression("0 0 * FEB/3 *").values(of: .month) == [2, 5, 8, 11])
        #expect(try CronExpression("0 0 * * SUN,sat").values(of: .dayOfWeek) == [0, 6])
    }

    /// (field text, field, values)
    @Test(arguments: [
        ("*/15", Field.minute, [0, 15, 30, 45]),
        ("5/20", .minute, [5, 25, 45]),
        ("10-20/5", .minute, [10, 15, 20]),
        ("10-21/5", .minute, [10, 15, 20]),
        ("1,2,3", .minute, [1, 2, 3]),
        ("3,1,2,1", .minute, [1, 2, 3]),
        ("0-4,50-59/3", .minute, [0, 1, 2, 3, 4, 50, 53, 56, 59]),
        ("*/59", .minute, [0, 59]),
        ("07", .minute, [7]),
        ("0000000000059", .minute, [59]),
        ("*/1", .hour, Array(0...23)),
        ("*/23", .hour, [0, 23]),
        ("9-17", .hour, Array(9...17)),
        ("5-5", .hour, [5]),
        ("*,3", .hour, Array(0...23)),
        ("*/10", .dayOfMonth, [1, 11, 21, 31]),
        ("31/2", .dayOfMonth, [31]),
        ("1-31", .dayOfMonth, Array(1...31)),
        ("*/12", .month, [1]),
        ("2-12/5", .month, [2, 7, 12]),
        ("*/2", .dayOfWeek, [0, 2, 4, 6]),
        ("1/2", .dayOfWeek, [0, 1, 3, 5]),
        ("0,7", .dayOfWeek, [0]),
        ("6-7", .dayOfWeek, [0, 6]),
        ("*/7", .dayOfWeek, [0]),
    ])
    func listsRangesAndSteps(_ text: String, _ field: Field, _ values: [Int]) throws {
        let position = Field.allCases.firstIndex(of: field)!
        #expect(try CronExpression(expression(text, at: position)).values(of: field) == values)
    }

    @Test func onlyStarAndStarSlashOneLeaveAFieldUnrestricted() throws {
        for free in ["*", "*/1", "*/01"] {
            let cron = try CronExpression("0 \(free) \(free) * \(free)")
            #expect(!cron.restrictsDayOfMonth && !cron.restrictsDayOfWeek && cron.everyHour, "\(free)")
        }
        for restricting in ["*/2", "1-7", "*,1", "0-7"] {
            let cron = try CronExpression("0 0 * * \(restricting)")
            #expect(cron.restrictsDayOfWeek && !cron.restrictsDayOfMonth, "\(restricting)")
        }
        #expect(try CronExpression("0 0 1-31 * *").restrictsDayOfMonth)
        #expect(try !CronExpression("0 0-23 * * *").everyHour, "every hour, but not written as *")
        #expect(try !CronExpression("0 */2 * * *").everyHour)
    }

    @Test(arguments: [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"),
    ])
    func macrosMeanTheirExpansion(_ macro: String, _ expansion: String) throws {
        let expanded = try CronExpression(expansion)
        for spelling in [macro, macro.uppercased(), " \t\(macro.prefix(2).uppercased())\(macro.dropFirst(2))\n"] {
            let cron = try CronExpression(spelling)
            #expect(cron.text == CronExpression.trimmedForTests(spelling))
            for field in Field.allCases {
                #expect(cron.values(of: field) == expanded.values(of: field), "\(spelling) \(field)")
            }
            #expect(cron.everyHour == expanded.everyHour)
            #expect(cron.restrictsDayOfWeek == expanded.restrictsDayOfWeek)
        }
    }

    @Test(arguments: [
        "0 0 * * *", "  0 0 * * *", "0 0 * * *  ", "0\t0\t*\t*\t*", "0   0 *\t \t* *", "\n0 0 * * *\n",
        "0\r\n0 * * *", "\u{0B}0\u{0C}0 * * *\r",
    ])
    func whitespaceSeparatesAndIsTrimmed(_ text: String) throws {
        let cron = try CronExpression(text)
        #expect(cron.text == CronExpression.trimmedForTests(text))
        #expect(cron.values(of: .minute) == [0] && cron.values(of: .hour) == [0])
        #expect(cron.description == cron.text)
    }

    @Test func equalTextsAreEqualExpressions() throws {
        #expect(try CronExpression("0 0 * * *") == CronExpression(" 0 0 * * *\n"))
        #expect(try CronExpression("0 0 * * *") != CronExpression("0 0 * * 0-7"))
    }

    /// (expression, field at fault, the message after "is not valid: ")
    @Test(arguments: [
        ("", nil, "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got 0"),
        (" \t\n", nil, "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got 0"),
        ("* * * *", nil, "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got 4"),
        ("0 * * * * *", nil, "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got 6"),
        ("0\u{A0}0 * * *", nil, "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got 4"),
        ("@reboot", nil, "unknown macro; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"),
        ("@daily 0", nil, "unknown macro; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"),
        ("@", nil, "unknown macro; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"),
        ("0 0 30 2 *", nil, "it never fires: no month in the month field '2' has a day in the day-of-month field '30'"),
        ("0 0 31 4,6,9,11 *", nil, "it never fires: no month in the month field '4,6,9,11' has a day in the day-of-month field '31'"),
        ("0 0 30,31 FEB */1", nil, "it never fires: no month in the month field 'FEB' has a day in the day-of-month field '30,31'"),
        ("61 * * * *", .minute, "the minute field '61' is out of range; use 0-59"),
        ("1,61 * * * *", .minute, "the minute field '1,61' has '61', which is out of range; use 0-59"),
        ("50-60 * * * *", .minute, "the minute field '50-60' has '60', which is out of range; use 0-59"),
        ("99999999999999999999 * * * *", .minute, "the minute field '99999999999999999999' is out of range; use 0-59"),
        ("* 24 * * *", .hour, "the hour field '24' is out of range; use 0-23"),
        ("* * 0 * *", .dayOfMonth, "the day-of-month field '0' is out of range; use 1-31"),
        ("* * * 13 *", .month, "the month field '13' is out of range; use 1-12 or JAN-DEC"),
        ("* * * * 8", .dayOfWeek, "the day-of-week field '8' is out of range; use 0-7 or SUN-SAT"),
        ("5-1 * * * *", .minute, "the minute field '5-1' is a backward range; write the smaller value first"),
        ("0,5-1/2 * * * *", .minute, "the minute field '0,5-1/2' has '5-1', which is a backward range; write the smaller value first"),
        ("* * * * SAT-SUN", .dayOfWeek, "the day-of-week field 'SAT-SUN' is a backward range; write the smaller value first"),
        ("*/0 * * * *", .minute, "the minute field '*/0' has the step '0', which is out of range; use a step of 1-59"),
        ("*/60 * * * *", .minute, "the minute field '*/60' has the step '60', which is out of range; use a step of 1-59"),
        ("* * * * */8", .dayOfWeek, "the day-of-week field '*/8' has the step '8', which is out of range; use a step of 1-7"),
        ("1,,2 * * * *", .minute, "the minute field '1,,2' has an empty list item; put exactly one value, range or step between commas"),
        (",1 * * * *", .minute, "the minute field ',1' has an empty list item; put exactly one value, range or step between commas"),
        ("* * 1, * *", .dayOfMonth, "the day-of-month field '1,' has an empty list item; put exactly one value, range or step between commas"),
        ("1-2-3 * * * *", .minute, "the minute field '1-2-3' is not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas"),
        ("* 1,*/ * * *", .hour, "the hour field '1,*/' has '*/', which is not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas"),
        ("* * * * 1/2/3", .dayOfWeek, "the day-of-week field '1/2/3' is not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas"),
        ("** * * * *", .minute, "the minute field '**' is not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas"),
        ("*-5 * * * *", .minute, "the minute field '*-5' is not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas"),
        ("* * * * 5MON", .dayOfWeek, "the day-of-week field '5MON' is not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas"),
        ("* * * * MON/FRI", .dayOfWeek, "the day-of-week field 'MON/FRI' is not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas"),
        ("JAN * * * *", .minute, "the minute field 'JAN' has the name 'JAN'; use numbers 0-59"),
        ("* 1,mon-fri * * *", .hour, "the hour field '1,mon-fri' has the name 'mon'; use numbers 0-23"),
        ("* * L * *", .dayOfMonth, "the day-of-month field 'L' has the name 'L'; use numbers 1-31"),
        ("* * * JANUARY *", .month, "the month field 'JANUARY' is an unknown name; use JAN-DEC"),
        ("* * * 1,FOO *", .month, "the month field '1,FOO' has 'FOO', which is an unknown name; use JAN-DEC"),
        ("* * * * MON-XYZ", .dayOfWeek, "the day-of-week field 'MON-XYZ' has 'XYZ', which is an unknown name; use SUN-SAT"),
        ("* * * * JAN", .dayOfWeek, "the day-of-week field 'JAN' is an unknown name; use SUN-SAT"),
        ("0 0 ? * MON", .dayOfMonth, "the day-of-month field '?' contains '?'; use only digits and * , - /"),
        ("0 0 * * 5#3", .dayOfWeek, "the day-of-week field '5#3' contains '#'; use only digits, day names and * , - /"),
        ("0 0 * Mär *", .month, "the month field 'Mär' contains 'ä'; use only digits, month names and * , - /"),
        ("0 0 * * ſun", .dayOfWeek, "the day-of-week field 'ſun' contains 'ſ'; use only digits, day names and * , - /"),
        ("٣ * * * *", .minute, "the minute field '٣' contains '٣'; use only digits and * , - /"),
        ("0 0 @ * *", .dayOfMonth, "the day-of-month field '@' contains '@'; use only digits and * , - /"),
        ("'; * * * *", .minute, "the minute field '';' contains '''; use only digits and * , - /"),
        ("e\u{301} * * * *", .minute, "the minute field 'e\u{301}' contains '\u{301}'; use only digits and * , - /"),
        // The first problem wins: a field left of another, and junk before names or ranges.
        ("61 24 * * *", .minute, "the minute field '61' is out of range; use 0-59"),
        ("70,a * * * *", .minute, "the minute field '70,a' has the name 'a'; use numbers 0-59"),
        ("a# * * * *", .minute, "the minute field 'a#' contains '#'; use only digits and * , - /"),
        ("9-1/0 * * * *", .minute, "the minute field '9-1/0' has '9-1', which is a backward range; write the smaller value first"),
        ("* * 0 * 8", .dayOfMonth, "the day-of-month field '0' is out of range; use 1-31"),
        ("0 0 30 2 8", .dayOfWeek, "the day-of-week field '8' is out of range; use 0-7 or SUN-SAT"),
    ] as [(String, Field?, String)])
    func refusalsNameTheFieldAndSayWhatIsAllowed(_ text: String, _ field: Field?, _ problem: String) {
        let trimmed = CronExpression.trimmedForTests(text)
        #expect(error(text) == CronError(field: field, message: "cron expression '\(trimmed)' is not valid: \(problem)"))
    }

    @Test func expressionsThatFireRarelyAreStillValid() throws {
        _ = try CronExpression("0 0 29 2 *")
        _ = try CronExpression("0 0 30 2 MON")  // either day counts: every Monday in February
        _ = try CronExpression("0 0 31 1-2 *")
        _ = try CronExpression("0 0 */31 2 *")
    }
}

extension CronExpression {
    /// The trimming the parser promises, spelled out independently for the tests.
    static func trimmedForTests(_ text: String) -> String {
        let separators: Set<Unicode.Scalar> = [" ", "\t", "\n", "\u{0B}", "\u{0C}", "\r"]
        var scalars = Array(text.unicodeScalars)
        while let first = scalars.first, separators.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, separators.contains(last) { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
