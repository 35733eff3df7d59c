import Foundation

/// When a schedule is due: the pure arithmetic behind `baton.schedule`. The scheduler asks it
/// for due times; the database decides which process fires each one, exactly once.
///
/// Pure: no clock is read and nothing is stored; `TimeZone` only supplies UTC offsets.
///
/// Time-zone policy for `.cron`:
/// 1. Cron times are wall-clock times in the schedule's zone; slots are at whole minutes
///    (seconds 0) of that clock.
/// 2. Spring forward (a wall-clock time that does not exist that day): when the hour field
///    is `*` (or `*/1`), the missing times are skipped: `*/15 * * * *` in Europe/Berlin on
///    2026-03-29 runs at 01:45 CET, then 03:00 CEST. Otherwise a matching missing time fires
///    once, at the first instant after the gap: `30 2 * * *` fires at 03:00 CEST that day.
///    Several matching times inside one gap fire once, and a slot that also matches that
///    first instant (`0 2,3 * * *`) is still one slot.
/// 3. Fall back (a wall-clock time that occurs twice): when the hour field is `*` (or `*/1`),
///    it fires at both occurrences; otherwise only at the first: `30 2 * * *` in Europe/Berlin
///    on 2026-10-25 fires once, at 02:30 CEST.
/// 4. `.every` slots are fixed lengths of time and ignore zones.
///
/// Every offset change the zone's rules list counts, not only DST (Europe/Moscow moving from
/// +04 to +03 in 2014 repeats an hour like a fall-back does).
public enum ScheduleRule: Sendable, Hashable {
    /// Fixed-length slots: anchor + n * milliseconds (n >= 1), unaffected by DST. A length
    /// below 1 ms has no slots.
    case every(milliseconds: Int64, anchor: Date)
    /// Wall-clock times in the zone.
    case cron(CronExpression, timeZone: TimeZone)

    /// The first slot strictly after `instant`; nil only if there is none within fifty years
    /// (which a validated expression cannot cause) or the rule has no slots at all.
    public func nextSlot(after instant: Date) -> Date? {
        switch self {
        case .every(let milliseconds, let anchor):
            let slots = EverySlots(milliseconds: milliseconds, anchor: anchor)
            return slots.index(after: instant).flatMap(slots.slot)
        case .cron(let expression, let zone):
            var walker = CronSlotWalker(expression: expression, zone: zone, after: instant)
            return walker.next().map(CronSlotWalker.date)
        }
    }

    /// The slots in (after, through]: how many, counting no further than `limit`, and the
    /// last one counted (the `limit`-th when counting stopped there, so a caller can go on
    /// from it). (0, nil) when there is none or `limit` < 1. Used to count the slots that
    /// one catch-up run stands for.
    public func slots(after: Date, through: Date, limit: Int = 100_000) -> (count: Int, last: Date?) {
        guard limit >= 1, through > after else { return (0, nil) }
        switch self {
        case .every(let milliseconds, let anchor):
            let slots = EverySlots(milliseconds: milliseconds, anchor: anchor)
            guard let first = slots.index(after: after), let lastIndex = slots.index(atOrBefore: through),
                  lastIndex >= first else { return (0, nil) }
            let count = min(lastIndex - first + 1, Int64(limit))
            return (Int(count), slots.slot(first + count - 1))
        case .cron(let expression, let zone):
            var walker = CronSlotWalker(expression: expression, zone: zone, after: after, through: through)
            var count = 0
            var last: Int64?
            while count < limit, let slot = walker.next() {
                count += 1
                last = slot
            }
            return (count, last.map(CronSlotWalker.date))
        }
    }
}

/// `anchor + n * milliseconds` for n >= 1, in closed form: the index is estimated by
/// division and then corrected by comparing real slot times, so rounding in `Date`'s
/// floating-point seconds cannot put a slot on the wrong side of an instant.
struct EverySlots {
    let milliseconds: Int64
    let anchor: Date

    /// The largest index this arithmetic handles without overflow (n * milliseconds fits).
    var maxIndex: Int64 { milliseconds > 0 ? Int64.max / milliseconds / 2 : 0 }

    func slot(_ n: Int64) -> Date? {
        guard milliseconds > 0, n >= 1, n <= maxIndex else { return nil }
        return anchor.addingTimeInterval(Double(n * milliseconds) / 1000)
    }

    /// The index of the first slot strictly after `instant`.
    func index(after instant: Date) -> Int64? {
        guard let n = estimate(instant) else { return nil }
        var index = max(1, n)
        while let s = slot(index), s <= instant { index += 1 }
        while index > 1, let s = slot(index - 1), s > instant { index -= 1 }
        return slot(index) == nil ? nil : index
    }

    /// The index of the last slot at or before `instant`; nil when the first slot is later.
    func index(atOrBefore instant: Date) -> Int64? {
        guard let next = index(after: instant) else {
            // No slot after it within range: the last representable one is at or before it.
            return milliseconds > 0 && instant > anchor ? maxIndex : nil
        }
        return next > 1 ? next - 1 : nil
    }

    /// floor((instant - anchor) / length) + 1, clamped to the representable indexes.
    private func estimate(_ instant: Date) -> Int64? {
        guard milliseconds > 0 else { return nil }
        let quotient = (instant.timeIntervalSince(anchor) * 1000 / Double(milliseconds)).rounded(.down)
        guard !quotient.isNaN else { return nil }
        return Int64(min(max(quotient, 0), Double(maxIndex))) + 1
    }
}
