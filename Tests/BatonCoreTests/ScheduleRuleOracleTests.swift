import BatonCore
import Foundation
import Testing

/// The exhaustive check: `ScheduleRule` against naive scans that use nothing of it but the
/// parsed field values. Expressions, zones and start instants come from a seeded generator,
/// so a failure repeats exactly.
@Suite struct ScheduleRuleOracleTests {
    /// Zones and instants where their UTC offset changes (some far from plain DST: Moscow
    /// left DST for a fixed +04 and then +03, Samoa skipped a whole day).
    static let changes: [(String, String)] = [
        ("Europe/Berlin", "2026-03-29T01:00:00Z"), ("Europe/Berlin", "2026-10-25T01:00:00Z"),
        ("Europe/Berlin", "1996-10-27T01:00:00Z"),
        ("America/New_York", "2026-03-08T07:00:00Z"), ("America/New_York", "2026-11-01T06:00:00Z"),
        ("America/New_York", "2007-03-11T07:00:00Z"),
        ("Australia/Lord_Howe", "2026-04-04T15:00:00Z"), ("Australia/Lord_Howe", "2026-10-03T15:30:00Z"),
        ("Europe/Moscow", "2011-03-26T23:00:00Z"), ("Europe/Moscow", "2014-10-25T22:00:00Z"),
        ("Pacific/Apia", "2011-12-30T10:00:00Z"),
        ("Asia/Kolkata", "2026-03-29T01:00:00Z"), ("Asia/Kathmandu", "2026-10-25T01:00:00Z"), ("UTC", "2026-01-01T00:00:00Z"),
    ]

    /// Around every offset change, dense expressions: every slot in a 36-hour window must be
    /// the one a minute-by-minute walk over real instants finds, applying the DST policy.
    @Test func slotsNearOffsetChangesMatchAMinuteByMinuteScan() throws {
        var random = SplitMix64(state: 0xC0FFEE)
        var generator = CronGenerator()
        var compared = 0, slotsSeen = 0
        while compared < 500 {
            let (zoneID, change) = Self.changes[compared % Self.changes.count]
            let tz = zone(zoneID)
            guard let expression = try? CronExpression(generator.dense(using: &random)) else { continue }
            let fraction = Bool.random(using: &random) ? Double(Int.random(in: 0..<1000, using: &random)) / 1000 : 0
            // Half the starts fall within 90 minutes of the change: inside a gap or a repeat.
            let minutes = Bool.random(using: &random) ? Int.random(in: -90...90, using: &random) : Int.random(in: -30 * 60...6 * 60, using: &random)
            let start = instant(change).addingTimeInterval(Double(minutes * 60) + fraction)
            let window = 36 * 60
            let expected = Self.scan(expression, tz, after: start, minutes: window)
            let end = start.addingTimeInterval(Double(window * 60))
            let rule = ScheduleRule.cron(expression, timeZone: tz)
            var got: [Date] = []
            var cursor = start
            while let next = rule.nextSlot(after: cursor), next <= end {
                got.append(next)
                cursor = next
            }
            // Compared here rather than in #expect, which would print thousands of dates.
            if got != expected {
                Issue.record("\(expression) in \(zoneID) after \(start): \(Self.firstDifference(got, expected))")
            }
            let counted = rule.slots(after: start, through: end)
            #expect(counted.count == expected.count && counted.last == expected.last, "\(expression) in \(zoneID) after \(start)")
            compared += 1
            slotsSeen += expected.count
        }
        #expect(slotsSeen > 30_000, "the generator makes dense expressions")
    }

    /// Sparse expressions (month ends, leap days, weekdays of certain months) in zones with a
    /// fixed offset, over up to ten years: the next slot must be the one a day-by-day walk
    /// with `Calendar` finds, and so must the three after it.
    @Test func sparseSlotsMatchADayByDayScan() throws {
        var random = SplitMix64(state: 0x5EED)
        var generator = CronGenerator()
        var compared = 0
        let zones = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "Etc/GMT+11"]
        while compared < 1_000 {
            guard let expression = try? CronExpression(generator.sparse(using: &random)) else { continue }
            let tz = zone(zones[compared % zones.count])
            var cursor = Date(timeIntervalSince1970: Double(Int64.random(in: 631_152_000...3_786_912_000, using: &random)))
            let rule = ScheduleRule.cron(expression, timeZone: tz)
            for _ in 0..<4 {
                let expected = Self.dayScan(expression, tz, after: cursor)
                #expect(rule.nextSlot(after: cursor) == expected, "\(expression) in \(tz.identifier) after \(cursor)")
                guard let expected else { break }
                cursor = expected
            }
            compared += 1
        }
    }

    // MARK: - The naive scans

    /// Every instant at a whole minute in (start, start + minutes], read on the zone's clock
    /// with `Calendar`. A time the clock skipped fires at the first instant after the gap
    /// (unless the hour field is every hour); a time it shows twice fires again only when the
    /// hour field is every hour.
    static func scan(_ e: CronExpression, _ tz: TimeZone, after start: Date, minutes: Int) -> [Date] {
        var local = Calendar(identifier: .gregorian)
        local.timeZone = tz
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = zone("UTC")
        let match = Matcher(e)
        func wallMatches(_ c: DateComponents) -> Bool {
            match(month: c.month!, day: c.day!, weekday: c.weekday! - 1, hour: c.hour!, minute: c.minute!)
        }
        var seen = Set<Int>()
        var previousWall: Int?
        var out: [Date] = []
        // From three hours before, so that the first occurrence of a repeated time is seen.
        var t = (start.timeIntervalSince1970 / 60).rounded(.down) * 60 - 3 * 3600
        let end = start.timeIntervalSince1970 + Double(minutes * 60)
        while t <= end {
            let now = Date(timeIntervalSince1970: t)
            let components = local.dateComponents([.month, .day, .weekday, .hour, .minute], from: now)
            let wall = Int(t) + tz.secondsFromGMT(for: now)
            var fires = wallMatches(components) && (e.everyHour || !seen.contains(wall))
            if let previousWall, wall - previousWall > 60, !e.everyHour, !fires {
                fires = stride(from: previousWall + 60, to: wall, by: 60).contains { skipped in
                    wallMatches(utc.dateComponents([.month, .day, .weekday, .hour, .minute],
                                                   from: Date(timeIntervalSince1970: Double(skipped))))
                }
            }
            seen.insert(wall)
            if fires && now > start { out.append(now) }
            previousWall = wall
            t += 60
        }
        return out
    }

    /// The first slot after `start` in a zone with a fixed offset: day by day, then every
    /// hour and minute of a matching day.
    static func dayScan(_ e: CronExpression, _ tz: TimeZone, after start: Date) -> Date? {
        var local = Calendar(identifier: .gregorian)
        local.timeZone = tz
        let match = Matcher(e)
        var day = local.startOfDay(for: start)
        for _ in 0..<(366 * 10) {
            let c = local.dateComponents([.month, .day, .weekday], from: day)
            if match.day(month: c.month!, day: c.day!, weekday: c.weekday! - 1) {
                for hour in match.hours.sorted() {
                    for minute in match.minutes.sorted() {
                        let slot = day.addingTimeInterval(Double(hour * 3600 + minute * 60))
                        if slot > start { return slot }
                    }
                }
            }
            day = local.date(byAdding: .day, value: 1, to: day)!
        }
        return nil
    }

    static func firstDifference(_ a: [Date], _ b: [Date]) -> String {
        let index = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        return "#\(index): got \(index < a.count ? "\(a[index])" : "nothing"), expected \(index < b.count ? "\(b[index])" : "nothing")"
    }
}

/// The matching rule written out from the documentation, over the parsed value sets.
struct Matcher {
    let minutes, hours, daysOfMonth, months, daysOfWeek: Set<Int>
    let restrictsDayOfMonth, restrictsDayOfWeek: Bool

    init(_ e: CronExpression) {
        minutes = Set(e.values(of: .minute))
        hours = Set(e.values(of: .hour))
        daysOfMonth = Set(e.values(of: .dayOfMonth))
        months = Set(e.values(of: .month))
        daysOfWeek = Set(e.values(of: .dayOfWeek))
        restrictsDayOfMonth = e.restrictsDayOfMonth
        restrictsDayOfWeek = e.restrictsDayOfWeek
    }

    func day(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let byDate = daysOfMonth.contains(day), byWeekday = daysOfWeek.contains(weekday)
        if restrictsDayOfMonth && restrictsDayOfWeek { return byDate || byWeekday }
        return (!restrictsDayOfMonth || byDate) && (!restrictsDayOfWeek || byWeekday)
    }

    func callAsFunction(month: Int, day: Int, weekday: Int, hour: Int, minute: Int) -> Bool {
        self.day(month: month, day: day, weekday: weekday) && hours.contains(hour) && minutes.contains(minute)
    }
}

/// Random cron expressions: dense ones that fire many times a day (with hours around the
/// usual DST changes), and sparse ones that fire a few times a year or less.
struct CronGenerator {
    func pick<T>(_ options: [T], _ random: inout SplitMix64) -> T { options[Int.random(in: 0..<options.count, using: &random)] }
    func n(_ range: ClosedRange<Int>, _ random: inout SplitMix64) -> Int { Int.random(in: range, using: &random) }

    func item(_ low: Int, _ high: Int, _ random: inout SplitMix64) -> String {
        let a = n(low...high, &random), b = n(a...high, &random), step = n(1...max(1, (high - low) / 2), &random)
        return pick(["\(a)", "\(a)-\(b)", "*/\(step)", "\(a)-\(b)/\(step)", "\(a)/\(step)"], &random)
    }

    func list(_ low: Int, _ high: Int, _ random: inout SplitMix64) -> String {
        (0..<n(1...3, &random)).map { _ in item(low, high, &random) }.joined(separator: ",")
    }

    mutating func dense(using random: inout SplitMix64) -> String {
        let minute = pick(["*", "*/\(n(1...20, &random))", "\(n(0...59, &random))", list(0, 59, &random), "*/1"], &random)
        let hour = pick(["*", "*", "*/\(n(1...4, &random))", "\(n(0...4, &random))", "\(n(0...2, &random))-\(n(2...4, &random))",
                         list(0, 23, &random), "*/1"], &random)
        let dom = pick(["*", "*", "*", "*", list(1, 31, &random), "*/1"], &random)
        let month = pick(["*", "*", "*", "*", list(1, 12, &random)], &random)
        let dow = pick(["*", "*", "*", list(0, 7, &random), "MON-FRI", "SUN,SAT", "*/1"], &random)
        return "\(minute) \(hour) \(dom) \(month) \(dow)"
    }

    mutating func sparse(using random: inout SplitMix64) -> String {
        let minute = pick(["0", "\(n(0...59, &random))", list(0, 59, &random)], &random)
        let hour = pick(["0", "\(n(0...23, &random))", list(0, 23, &random), "*"], &random)
        let dom = pick(["29", "30", "31", "29-31", "\(n(1...31, &random))", list(1, 31, &random), "*"], &random)
        let month = pick(["2", "FEB", "4,6,9,11", "*/2", "\(n(1...12, &random))", list(1, 12, &random), "*"], &random)
        let dow = pick(["*", "*", "*", "\(n(0...7, &random))", list(0, 7, &random), "FRI"], &random)
        return "\(minute) \(hour) \(dom) \(month) \(dow)"
    }
}
