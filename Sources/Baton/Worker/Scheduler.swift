import Foundation
import Logging

/// Fires due schedules (sql/functions/fire_schedule.sql). Every worker process runs one; the database
/// lets exactly one of them fire each due time, so any number may run. It wakes at the next due
/// time, when a schedule changes (`baton_schedule`), when the listener (re)connects, and at
/// least every `pollIntervalMs`. The due-time arithmetic is `ScheduleStep`/`ScheduleRule`, fed
/// with the database's clock.
struct Scheduler: Sendable {
    var pool: ConnectionPool
    var alarm: Alarm
    var pollIntervalMs: Int
    var logger: Logger

    func run() async {
        var backoff = ReconnectBackoff()
        while !Task.isCancelled {
            var waitMs = pollIntervalMs
            do {
                waitMs = min(waitMs, try await pass())
                backoff.reset()
            } catch {
                waitMs = backoff.next()
                logger.debug("scheduler pass failed; trying again", metadata: ["error": "\(error)", "retry_in_ms": "\(waitMs)"])
            }
            await alarm.wait(upToMs: waitMs)
        }
    }

    /// Plans and fires what is due; returns the milliseconds until the next due time.
    func pass() async throws -> Int {
        let rows = try await pool.query(ScheduleQueries.due).records
        guard let nowUs = rows.first?["now_us"].flatMap(Int64.init) else { return pollIntervalMs }
        let now = Self.date(nowUs)
        var wakeUs = rows.first?["wake_us"].flatMap(Int64.init)
        func wake(at date: Date) { wakeUs = min(wakeUs ?? .max, Self.micros(date)) }
        for row in rows {
            guard let name = row["name"] else { continue }
            let rule: ScheduleRule
            do {
                rule = try Self.rule(row)
            } catch {
                logger.error("schedule cannot be computed; fix or remove it", metadata: ["schedule": "\(name)", "error": "\(error)"])
                continue
            }
            let nextDue = row["next_due_us"].flatMap(Int64.init).map(Self.date)
            switch ScheduleStep.decide(rule, nextDue: nextDue, now: now) {
            case .plan(let next):
                _ = try await pool.query(ScheduleQueries.plan, [name, String(Self.micros(next))])
                wake(at: next)
            case .wait(let until):
                wake(at: until)
            case .fire(let due, let slots, let lastSlot, let next):
                let fired = try await pool.query(ScheduleQueries.fire, [
                    name, String(Self.micros(due)), String(slots), String(Self.micros(lastSlot)), String(Self.micros(next)),
                ]).first
                let metadata: Logger.Metadata = [
                    "schedule": "\(name)", "due": "\(due)", "slots": "\(slots)", "session": "\(fired?["session_id"] ?? "-")",
                ]
                switch fired?["outcome"] {
                case "started": logger.info("schedule fired", metadata: metadata)
                case "skipped": logger.notice("schedule slot skipped: an earlier run still goes", metadata: metadata)
                default: logger.debug("schedule slot fired elsewhere", metadata: metadata)
                }
                wake(at: next)
            case .exhausted:
                logger.warning("schedule has no further due time", metadata: ["schedule": "\(name)"])
            }
        }
        guard let wakeUs else { return pollIntervalMs }
        return Int(max(1, (wakeUs - nowUs) / 1000 + 1))
    }

    /// The rule a schedule row describes.
    static func rule(_ row: QueryResult.Record) throws -> ScheduleRule {
        if let every = row["every_ms"].flatMap(Int64.init) {
            return .every(milliseconds: every, anchor: date(try row.int64("anchor_us")))
        }
        let zoneName = try row.string("time_zone")
        guard let zone = TimeZone(identifier: zoneName) else {
            throw DatabaseError.configuration("time zone \(zoneName) is unknown to this process (is tzdata installed?)")
        }
        return .cron(try CronExpression(try row.string("cron")), timeZone: zone)
    }

    static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
}
