import BatonCore
import Foundation
import Testing

/// An instant written with its offset, e.g. "2026-03-29T03:00:00+02:00".
func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    guard let date = formatter.date(from: text) else { fatalError("not an ISO 8601 instant: \(text)") }
    return date
}

func zone(_ identifier: String) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else { fatalError("unknown zone \(identifier)") }
    return zone
}

func cron(_ text: String, _ zoneID: String = "UTC") throws -> ScheduleRule {
    .cron(try CronExpression(text), timeZone: zone(zoneID))
}

/// The next `count` slots after `start`, one `nextSlot` after another.
func slots(_ rule: ScheduleRule, after start: String, count: Int) -> [Date] {
    var out: [Date] = []
    var cursor = instant(start)
    while out.count < count, let next = rule.nextSlot(after: cursor) {
        out.append(next)
        cursor = next
    }
    return out
}

/// Hand-checked due times: calendar edges, the day rule, DST in four zones, `every`, counting.
@Suite struct ScheduleRuleTests {
    @Test func monthEndsSkipShortMonths() throws {
        #expect(slots(try cron("0 0 31 * *"), after: "2026-01-31T00:00:00Z", count: 7) == [
            "2026-03-31", "2026-05-31", "2026-07-31", "2026-08-31", "2026-10-31", "2026-12-31", "2027-01-31",
        ].map { instant("\($0)T00:00:00Z") })
        #expect(slots(try cron("0 0 30 * *"), after: "2026-01-30T00:00:00Z", count: 2)
                == [instant("2026-03-30T00:00:00Z"), instant("2026-04-30T00:00:00Z")])
    }

    @Test func leapDaysWaitForLeapYears() throws {
        let rule = try cron("0 0 29 2 *")
        #expect(rule.nextSlot(after: instant("2025-03-01T00:00:00Z")) == instant("2028-02-29T00:00:00Z"))
        #expect(rule.nextSlot(after: instant("2028-02-29T00:00:00Z")) == instant("2032-02-29T00:00:00Z"))
        // 2100 is not a leap year: eight years without a 29 February.
        #expect(rule.nextSlot(after: instant("2096-03-01T00:00:00Z")) == instant("2104-02-29T00:00:00Z"))
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothRestrict() throws {
        func days(_ expression: String, _ count: Int) throws -> [String] {
            slots(try cron(expression), after: "2026-01-01T00:00:00Z", count: count)
                .map { ISO8601DateFormatter().string(from: $0).prefix(10).description }
        }
        // January 2026 starts on a Thursday; 13 February 2026 is a Friday.
        #expect(try days("0 12 13 * FRI", 9) == ["2026-01-02", "2026-01-09", "2026-01-13", "2026-01-16", "2026-01-23",
                                                 "2026-01-30", "2026-02-06", "2026-02-13", "2026-02-20"])
        #expect(try days("0 12 13 * *", 3) == ["2026-01-13", "2026-02-13", "2026-03-13"])
        #expect(try days("0 12 * * FRI", 3) == ["2026-01-02", "2026-01-09", "2026-01-16"])
        #expect(try days("0 12 */1 * FRI", 3) == ["2026-01-02", "2026-01-09", "2026-01-16"], "*/1 restricts nothing")
        #expect(try days("0 12 1-31 * FRI", 3) == ["2026-01-01", "2026-01-02", "2026-01-03"], "1-31 restricts")
        #expect(try days("0 12 * * 7", 2) == ["2026-01-04", "2026-01-11"], "7 is Sunday")
        #expect(try days("0 12 30 2 MON", 2) == ["2026-02-02", "2026-02-09"], "Mondays in February")
    }

    @Test func yearBoundariesAndStrictlyAfter() throws {
        #expect(try cron("59 23 31 12 *").nextSlot(after: instant("2026-12-31T23:59:00Z")) == instant("2027-12-31T23:59:00Z"))
        #expect(try cron("0 0 1 1 *").nextSlot(after: instant("2026-12-31T23:59:59Z").addingTimeInterval(0.5))
                == instant("2027-01-01T00:00:00Z"))
        #expect(try cron("* * * * *").nextSlot(after: instant("2026-12-31T23:59:30Z")) == instant("2027-01-01T00:00:00Z"))
        let fives = try cron("*/5 * * * *")
        #expect(fives.nextSlot(after: instant("2026-06-01T10:05:00Z")) == instant("2026-06-01T10:10:00Z"))
        #expect(fives.nextSlot(after: instant("2026-06-01T10:05:00Z").addingTimeInterval(-0.001)) == instant("2026-06-01T10:05:00Z"))
        #expect(try cron("@yearly").nextSlot(after: instant("1999-12-31T23:59:59Z")) == instant("2000-01-01T00:00:00Z"))
    }

    @Test func wallClockTimesFollowTheZone() throws {
        #expect(try cron("0 9 * * *", "Europe/Berlin").nextSlot(after: instant("2026-01-15T00:00:00Z")) == instant("2026-01-15T09:00:00+01:00"))
        #expect(try cron("0 9 * * *", "Europe/Berlin").nextSlot(after: instant("2026-07-15T00:00:00Z")) == instant("2026-07-15T09:00:00+02:00"))
        // No DST in India: every day at 02:30 +05:30, all year.
        let kolkata = try cron("30 2 * * *", "Asia/Kolkata")
        #expect(slots(kolkata, after: "2026-03-28T12:00:00+05:30", count: 3)
                == ["29", "30", "31"].map { instant("2026-03-\($0)T02:30:00+05:30") })
        #expect(kolkata.slots(after: instant("2026-10-20T00:00:00Z"), through: instant("2026-10-30T00:00:00Z")).count == 10)
    }

    /// (zone, expression, start, the slots that follow)
    @Test(arguments: [
        // Berlin, spring forward on 2026-03-29: 02:00 CET becomes 03:00 CEST.
        ("Europe/Berlin", "*/15 * * * *", "2026-03-29T01:30:00+01:00", ["01:45:00+01:00", "03:00:00+02:00", "03:15:00+02:00"]),
        ("Europe/Berlin", "30 2 * * *", "2026-03-28T12:00:00+01:00", ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
        ("Europe/Berlin", "0,30 2 * * *", "2026-03-28T12:00:00+01:00", ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]),
        ("Europe/Berlin", "0 2,3 * * *", "2026-03-28T12:00:00+01:00", ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]),
        ("Europe/Berlin", "* 2 * * *", "2026-03-28T12:00:00+01:00", ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]),
        ("Europe/Berlin", "0 */2 * * *", "2026-03-29T01:00:00+01:00", ["03:00:00+02:00", "04:00:00+02:00"]),
        ("Europe/Berlin", "30 3 * * *", "2026-03-28T12:00:00+01:00", ["2026-03-29T03:30:00+02:00"]),
        // Berlin, fall back on 2026-10-25: 03:00 CEST becomes 02:00 CET.
        ("Europe/Berlin", "30 2 * * *", "2026-10-24T12:00:00+02:00", ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
        ("Europe/Berlin", "*/30 * * * *", "2026-10-25T01:45:00+02:00",
         ["02:00:00+02:00", "02:30:00+02:00", "02:00:00+01:00", "02:30:00+01:00", "03:00:00+01:00"]),
        ("Europe/Berlin", "15 1-3 * * *", "2026-10-25T00:00:00+02:00", ["01:15:00+02:00", "02:15:00+02:00", "03:15:00+01:00"]),
        ("Europe/Berlin", "30 2 * * *", "2026-10-25T02:10:00+01:00", ["2026-10-26T02:30:00+01:00"]),
        ("Europe/Berlin", "*/30 * * * *", "2026-10-25T02:10:00+01:00", ["02:30:00+01:00"]),
        ("Europe/Berlin", "*/15 * * * *", "2026-10-25T02:58:00+02:00", ["02:00:00+01:00", "02:15:00+01:00"]),
        // New York: 2026-03-08 02:00 EST becomes 03:00 EDT; 2026-11-01 02:00 EDT becomes 01:00 EST.
        ("America/New_York", "30 2 * * *", "2026-03-07T12:00:00-05:00", ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
        ("America/New_York", "30 1 * * *", "2026-10-31T12:00:00-04:00", ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
        ("America/New_York", "*/30 * * * *", "2026-11-01T00:45:00-04:00",
         ["01:00:00-04:00", "01:30:00-04:00", "01:00:00-05:00", "01:30:00-05:00", "02:00:00-05:00"]),
        // Lord Howe shifts by 30 minutes: 2026-10-04 02:00 +10:30 becomes 02:30 +11:00, and
        // 2026-04-05 02:00 +11:00 becomes 01:30 +10:30.
        ("Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00:00+10:30", ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]),
        ("Australia/Lord_Howe", "0 2 * * *", "2026-10-03T12:00:00+10:30", ["2026-10-04T02:30:00+11:00", "2026-10-05T02:00:00+11:00"]),
        ("Australia/Lord_Howe", "*/10 * * * *", "2026-10-04T01:45:00+10:30", ["01:50:00+10:30", "02:30:00+11:00", "02:40:00+11:00"]),
        ("Australia/Lord_Howe", "45 1 * * *", "2026-04-04T12:00:00+11:00", ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"]),
        ("Australia/Lord_Howe", "*/15 * * * *", "2026-04-05T01:40:00+11:00",
         ["01:45:00+11:00", "01:30:00+10:30", "01:45:00+10:30", "02:00:00+10:30"]),
        // Samoa skipped 30 December 2011 entirely (-10:00 to +14:00 at midnight).
        ("Pacific/Apia", "0 12 * * *", "2011-12-29T13:00:00-10:00", ["2011-12-31T00:00:00+14:00", "2011-12-31T12:00:00+14:00"]),
        ("Pacific/Apia", "0 12 30 12 *", "2011-12-29T13:00:00-10:00", ["2011-12-31T00:00:00+14:00", "2012-12-30T12:00:00+14:00"]),
        ("Pacific/Apia", "0 * * * *", "2011-12-29T23:30:00-10:00", ["2011-12-31T00:00:00+14:00", "2011-12-31T01:00:00+14:00"]),
    ])
    func daylightSavingTimePolicy(_ zoneID: String, _ expression: String, _ start: String, _ expected: [String]) throws {
        // A time without a date is on the start's date.
        let day = String(start.prefix(11))
        let want = expected.map { instant($0.count < 20 ? day + $0 : $0) }
        #expect(slots(try cron(expression, zoneID), after: start, count: want.count) == want, "\(zoneID) \(expression) after \(start)")
    }

    @Test func countingSlotsOverDaysThatAreNot24Hours() throws {
        let minutes = try cron("* * * * *", "Europe/Berlin")
        let spring = minutes.slots(after: instant("2026-03-29T00:00:00+01:00"), through: instant("2026-03-30T00:00:00+02:00"))
        #expect(spring.count == 23 * 60 && spring.last == instant("2026-03-30T00:00:00+02:00"))
        let fall = minutes.slots(after: instant("2026-10-25T00:00:00+02:00"), through: instant("2026-10-26T00:00:00+01:00"))
        #expect(fall.count == 25 * 60)
        let daily = try cron("30 2 * * *", "Europe/Berlin")
        #expect(daily.slots(after: instant("2026-10-25T00:00:00+02:00"), through: instant("2026-10-26T00:00:00+01:00"))
                == (1, instant("2026-10-25T02:30:00+02:00")))
        #expect(daily.slots(after: instant("2026-03-01T00:00:00+01:00"), through: instant("2026-04-01T00:00:00+02:00")).count == 31)
        #expect(try cron("*/15 * * * *", "Europe/Berlin")
            .slots(after: instant("2026-03-29T00:00:00+01:00"), through: instant("2026-03-30T00:00:00+02:00")).count == 23 * 4)
    }

    @Test func countingStopsAtTheLimit() throws {
        let minutes = try cron("* * * * *")
        let start = instant("2026-01-01T00:00:00Z")
        #expect(minutes.slots(after: start, through: instant("2026-01-02T00:00:00Z")) == (1440, instant("2026-01-02T00:00:00Z")))
        let capped = minutes.slots(after: start, through: instant("2027-01-01T00:00:00Z"))
        #expect(capped.count == 100_000 && capped.last == start.addingTimeInterval(100_000 * 60))
        #expect(minutes.slots(after: start, through: instant("2027-01-01T00:00:00Z"), limit: 3) == (3, start.addingTimeInterval(180)))
        #expect(minutes.slots(after: start, through: start, limit: 3) == (0, nil))
        #expect(minutes.slots(after: start, through: start.addingTimeInterval(-60)) == (0, nil))
        #expect(minutes.slots(after: start, through: start.addingTimeInterval(60), limit: 0) == (0, nil))
        #expect(minutes.slots(after: start, through: start.addingTimeInterval(59.9)) == (0, nil))
        #expect(minutes.slots(after: start.addingTimeInterval(-0.5), through: start) == (1, start), "both ends are slots here")
    }

    @Test func extremeInstantsDoNotTrap() throws {
        let rule = try cron("0 0 29 2 *", "Europe/Berlin")
        #expect(rule.nextSlot(after: .distantPast) != nil)
        #expect(rule.nextSlot(after: .distantFuture) != nil)
        _ = rule.nextSlot(after: Date(timeIntervalSinceReferenceDate: .nan))
        _ = rule.nextSlot(after: Date(timeIntervalSinceReferenceDate: .infinity))
        #expect(rule.slots(after: .distantPast, through: .distantFuture, limit: 10).count == 10)
        let every = ScheduleRule.every(milliseconds: 1, anchor: .distantPast)
        #expect(every.nextSlot(after: .distantFuture).map { $0 > .distantFuture } == true)
        _ = ScheduleRule.every(milliseconds: .max, anchor: .distantPast).nextSlot(after: .distantFuture)
        _ = ScheduleRule.every(milliseconds: 1, anchor: .distantFuture).slots(after: .distantPast, through: .distantFuture)
    }

    @Test func everySlotsAreAnchoredAndClosedForm() {
        let anchor = instant("2026-01-01T00:00:00Z")
        let quarter = ScheduleRule.every(milliseconds: 900_000, anchor: anchor)
        #expect(quarter.nextSlot(after: anchor.addingTimeInterval(-3600)) == anchor.addingTimeInterval(900), "n starts at 1")
        #expect(quarter.nextSlot(after: anchor) == anchor.addingTimeInterval(900))
        #expect(quarter.nextSlot(after: anchor.addingTimeInterval(899.999)) == anchor.addingTimeInterval(900))
        #expect(quarter.nextSlot(after: anchor.addingTimeInterval(900)) == anchor.addingTimeInterval(1800))
        #expect(quarter.nextSlot(after: anchor.addingTimeInterval(900.001)) == anchor.addingTimeInterval(1800))
        // Far out: still exactly on the grid.
        let far = anchor.addingTimeInterval(86_400 * 365 * 30 + 1234.5)
        let next = quarter.nextSlot(after: far)!
        #expect(next > far && next.timeIntervalSince(far) <= 900)
        #expect(next.timeIntervalSince(anchor).truncatingRemainder(dividingBy: 900) == 0)
        // Time zones play no part: an hourly rule across Berlin's spring forward stays an hour apart.
        let hourly = ScheduleRule.every(milliseconds: 3_600_000, anchor: instant("2026-03-29T00:00:00+01:00"))
        #expect(hourly.nextSlot(after: instant("2026-03-29T01:30:00+01:00")) == instant("2026-03-29T03:00:00+02:00"))
        // A sub-second anchor and a 1 ms length.
        let fine = ScheduleRule.every(milliseconds: 1, anchor: Date(timeIntervalSince1970: 1_700_000_000.25))
        #expect(fine.nextSlot(after: Date(timeIntervalSince1970: 1_700_000_000.2505))
                == Date(timeIntervalSince1970: 1_700_000_000.25).addingTimeInterval(0.001))
        #expect(ScheduleRule.every(milliseconds: 0, anchor: anchor).nextSlot(after: anchor) == nil)
        #expect(ScheduleRule.every(milliseconds: -5, anchor: anchor).slots(after: anchor, through: far) == (0, nil))
    }

    @Test func everySlotsNeverSkipOrRepeat() {
        var random = SplitMix64(state: 2026)
        for _ in 0..<2_000 {
            let length = Int64.random(in: 1...86_400_000, using: &random)
            let anchor = Date(timeIntervalSince1970: Double.random(in: 0...2e9, using: &random))
            let rule = ScheduleRule.every(milliseconds: length, anchor: anchor)
            let after = anchor.addingTimeInterval(Double.random(in: -1e6...3e8, using: &random))
            guard let next = rule.nextSlot(after: after) else { Issue.record("no slot"); continue }
            let n = (next.timeIntervalSince(anchor) * 1000 / Double(length)).rounded()
            #expect(n >= 1 && next == anchor.addingTimeInterval(n * Double(length) / 1000))
            #expect(next > after)
            #expect(n == 1 || anchor.addingTimeInterval((n - 1) * Double(length) / 1000) <= after, "no slot skipped")
        }
    }

    @Test func countingEverySlots() {
        let anchor = instant("2026-01-01T00:00:00Z")
        let quarter = ScheduleRule.every(milliseconds: 900_000, anchor: anchor)
        #expect(quarter.slots(after: anchor, through: anchor.addingTimeInterval(3600)) == (4, anchor.addingTimeInterval(3600)))
        #expect(quarter.slots(after: anchor, through: anchor.addingTimeInterval(3600), limit: 3) == (3, anchor.addingTimeInterval(2700)))
        #expect(quarter.slots(after: anchor.addingTimeInterval(-7200), through: anchor.addingTimeInterval(900)) == (1, anchor.addingTimeInterval(900)))
        #expect(quarter.slots(after: anchor.addingTimeInterval(1), through: anchor.addingTimeInterval(899)) == (0, nil))
        #expect(quarter.slots(after: anchor.addingTimeInterval(900), through: anchor.addingTimeInterval(899)) == (0, nil))
        let year = quarter.slots(after: anchor, through: anchor.addingTimeInterval(365 * 86_400), limit: 1_000_000)
        #expect(year == (365 * 96, anchor.addingTimeInterval(365 * 86_400)))
        let capped = quarter.slots(after: anchor, through: anchor.addingTimeInterval(365 * 86_400))
        #expect(capped == (35_040, anchor.addingTimeInterval(365 * 86_400)), "under the default limit")
    }
}
