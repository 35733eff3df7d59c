extension CronExpression {
    /// The first wall-clock minute in [from, limit) that the expression matches, or nil.
    ///
    /// Both bounds and the result are wall-clock seconds since 1970-01-01T00:00 on a clock
    /// without a zone (a "local" time read as if it were UTC); `ScheduleRule` maps them to
    /// instants. The search jumps: a month that does not match moves to the next allowed
    /// month, a day to the next day, an hour to the next allowed hour, a minute to the next
    /// allowed minute. So a year-long search takes a few hundred steps at most, not the
    /// half million a minute-by-minute scan would.
    func firstMatch(atOrAfter from: Int64, before limit: Int64) -> Int64? {
        let startMinute = CivilCalendar.ceilDiv(from, 60)
        let startDay = CivilCalendar.floorDiv(startMinute, 1440)
        var (year, month, day) = CivilCalendar.date(days: startDay)
        var hour = Int(startMinute - startDay * 1440) / 60
        var minute = Int(startMinute - startDay * 1440) % 60

        func nextDay() {
            day += 1
            hour = 0
            minute = 0
            if day > CivilCalendar.daysInMonth(year: year, month: month) {
                day = 1
                month += 1
                if month > 12 {
                    month = 1
                    year += 1
                }
            }
        }

        while true {
            let dayNumber = CivilCalendar.days(year: year, month: month, day: day)
            let at = (dayNumber * 1440 + Int64(hour * 60 + minute)) * 60
            if at >= limit { return nil }
            if !Self.has(months.mask, month) {
                if let next = Self.lowestBit(months.mask, from: month + 1) {
                    month = next
                } else {
                    year += 1
                    month = Self.lowestBit(months.mask, from: 1) ?? 1
                }
                day = 1
                hour = 0
                minute = 0
                continue
            }
            if !matchesDay(day: day, weekday: CivilCalendar.weekday(days: dayNumber)) {
                nextDay()
                continue
            }
            if !Self.has(hours.mask, hour) {
                if let next = Self.lowestBit(hours.mask, from: hour + 1) {
                    hour = next
                    minute = 0
                } else {
                    nextDay()
                }
                continue
            }
            if !Self.has(minutes.mask, minute) {
                if let next = Self.lowestBit(minutes.mask, from: minute + 1) {
                    minute = next
                } else if hour < 23 {
                    hour += 1
                    minute = 0
                } else {
                    nextDay()
                }
                continue
            }
            return at
        }
    }

    /// The smallest value >= `from` whose bit is set.
    static func lowestBit(_ mask: UInt64, from: Int) -> Int? {
        guard from < 64 else { return nil }
        let rest = mask & ~((1 << UInt64(max(from, 0))) - 1)
        return rest == 0 ? nil : rest.trailingZeroBitCount
    }
}
