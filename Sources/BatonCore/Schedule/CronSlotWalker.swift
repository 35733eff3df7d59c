import Foundation

/// Walks a cron expression's slots forward through a time zone, one stretch of constant UTC
/// offset ("segment") at a time: inside a segment wall-clock time and instants differ by a
/// constant, so the wall-clock search of `CronExpression.firstMatch` finds the slot directly.
/// At the boundary between segments the DST policy of `ScheduleRule` decides what a skipped
/// or repeated wall-clock time does.
///
/// Instants are whole seconds since 1970-01-01T00:00:00Z; wall-clock times are the same
/// count on the zone's clock (instant + offset).
struct CronSlotWalker {
    let expression: CronExpression
    let zone: TimeZone
    /// The earliest instant a slot may still have (slots before it were returned or skipped).
    private var low: Int64
    /// Nothing at or after this instant is searched.
    private let horizon: Int64
    private var segmentStart: Int64
    /// Exclusive; the next offset change, or `horizon`.
    private var segmentEnd: Int64 = 0
    /// Whether `segmentEnd` is a real offset change (not just the horizon).
    private var endIsChange = false
    private var offset: Int64
    /// The offset before `segmentStart`; larger than `offset` after a fall-back.
    private var previousOffset: Int64
    private var nextOffset: Int64 = 0

    /// The search starts this long before the first instant, so that a fall-back just before
    /// it is known and its repeated wall-clock times are treated as repeats. (Offset changes
    /// are at most a day; real ones are an hour or less.)
    static let lookback: Int64 = 2 * 86_400
    /// A validated expression fires at least every eight years (29 February around a
    /// century year that is not a leap year); fifty is "a very long bound".
    static let defaultSpan: Int64 = 50 * 366 * 86_400
    /// Instants further out than this are clamped, which keeps all arithmetic far from
    /// Int64 overflow (about 300,000 years either side of 1970).
    static let maxMagnitude: Int64 = 10_000_000_000_000

    /// Slots strictly after `instant` and at or before `through` (default: fifty years on).
    init(expression: CronExpression, zone: TimeZone, after instant: Date, through: Date? = nil) {
        self.expression = expression
        self.zone = zone
        low = Self.seconds(instant.timeIntervalSince1970, roundingUp: false) + 1
        horizon = through.map { Self.seconds($0.timeIntervalSince1970, roundingUp: false) + 1 }
            ?? min(low + Self.defaultSpan, Self.maxMagnitude)
        segmentStart = low - Self.lookback
        offset = Int64(zone.secondsFromGMT(for: Self.date(segmentStart)))
        previousOffset = offset
        loadSegmentEnd()
    }

    /// The next slot, or nil when none is left before the horizon.
    mutating func next() -> Int64? {
        while segmentStart < horizon {
            let lowest = max(segmentStart, low)
            if lowest < segmentEnd {
                var wallFrom = lowest + offset
                if !expression.everyHour && previousOffset > offset {
                    // After a fall-back the wall-clock times [start + offset, start + previous)
                    // occurred once already: only an every-hour expression fires again.
                    wallFrom = max(wallFrom, segmentStart + previousOffset)
                }
                if let wall = expression.firstMatch(atOrAfter: wallFrom, before: segmentEnd + offset) {
                    low = wall - offset + 1
                    return wall - offset
                }
            }
            if endIsChange && nextOffset > offset && !expression.everyHour && segmentEnd >= low,
               expression.firstMatch(atOrAfter: segmentEnd + offset, before: segmentEnd + nextOffset) != nil {
                // Spring forward: matching wall-clock times in the gap fire once, at the
                // first instant after it (the change itself).
                low = segmentEnd + 1
                return segmentEnd
            }
            guard endIsChange else { return nil }
            previousOffset = offset
            offset = nextOffset
            segmentStart = segmentEnd
            loadSegmentEnd()
        }
        return nil
    }

    private mutating func loadSegmentEnd() {
        endIsChange = false
        segmentEnd = horizon
        nextOffset = offset
        guard let change = zone.nextDaylightSavingTimeTransition(after: Self.date(segmentStart)) else { return }
        let end = max(Self.seconds(change.timeIntervalSince1970, roundingUp: true), segmentStart + 1)
        guard end < horizon else { return }
        segmentEnd = end
        endIsChange = true
        nextOffset = Int64(zone.secondsFromGMT(for: Self.date(end)))
    }

    static func date(_ seconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(seconds))
    }

    /// Whole seconds, clamped to ±`maxMagnitude` (NaN counts as the far past).
    static func seconds(_ interval: Double, roundingUp: Bool) -> Int64 {
        let limit = Double(maxMagnitude)
        guard !interval.isNaN else { return -maxMagnitude }
        let clamped = min(max(interval, -limit), limit)
        return Int64(roundingUp ? clamped.rounded(.up) : clamped.rounded(.down))
    }
}
