import Foundation

/// A schedule: a session of `kind` at every due time (see sql/functions/fire_schedule.sql).
public struct Schedule: Sendable, Codable, Hashable {
    public var name: String
    public var kind: String
    public var input: JSONValue
    public var phases: Int
    public var autoPhases: Bool
    /// A fixed period, in seconds (nil for a cron schedule).
    public var everySeconds: Double?
    /// A cron expression (nil for a fixed period).
    public var cron: String?
    public var timeZone: String
    /// The next due time; nil until a running worker's scheduler has planned it.
    public var nextRunAt: String?
    public var createdAt: String
    public var updatedAt: String
}

/// One due time of a schedule, and what happened.
public struct ScheduleRun: Sendable, Codable, Hashable {
    public var schedule: String
    public var dueAt: String
    /// started, skipped (an earlier run still went) or manual (run-now).
    public var outcome: String
    /// How many slots the run covers: more than 1 for the one catch-up run after missed slots.
    public var slots: Int
    public var lastSlotAt: String?
    public var sessionId: String?
    public var note: String?
    public var createdAt: String
}

/// How often a schedule runs.
public enum ScheduleSpec: Sendable, Hashable {
    /// A fixed period as PostgreSQL reads an interval ("5 minutes", "1 hour 30 minutes", "PT10S").
    case every(String)
    /// A standard 5-field cron expression (or @hourly, @daily, …) in a time zone (default UTC).
    case cron(String, timeZone: String?)
}

extension BatonClient {
    /// Creates or replaces the schedule `name`.
    public func schedule(name: String, _ spec: ScheduleSpec, kind: String, inputJSON: String? = nil,
                         phases: Int? = nil, autoPhases: Bool? = nil) async throws -> Schedule {
        if let inputJSON {
            do {
                try JSONText.validate(inputJSON)
            } catch {
                throw BatonError.badInput("the schedule input is not valid JSON: \(error)")
            }
        }
        let common: [String?] = [inputJSON, phases.map(String.init), autoPhases.map(PGText.bool)]
        let result: QueryResult
        switch spec {
        case .every(let period):
            result = try await run(ScheduleQueries.every, [name, period, kind] + common)
        case .cron(let expression, let zone):
            result = try await run(ScheduleQueries.cron, [name, expression, kind] + common + [zone])
        }
        return try Self.decodeSchedule(result.first)
    }

    /// Removes a schedule and its run log; sessions it created run on.
    public func unschedule(_ name: String) async throws -> Schedule {
        try Self.decodeSchedule(try await run(ScheduleQueries.unschedule, [name]).first)
    }

    /// Every schedule, by name.
    public func schedules() async throws -> [Schedule] {
        try await run(ScheduleQueries.list).records.map(Self.decodeSchedule)
    }

    /// The schedule `name`, or nil when there is none.
    public func schedule(named name: String) async throws -> Schedule? {
        try await run(ScheduleQueries.get, [name]).first.map(Self.decodeSchedule)
    }

    /// Runs a schedule now: a session at once, whatever its due times.
    public func runSchedule(_ name: String) async throws -> Session {
        try session(from: try await run(ScheduleQueries.runNow, [name]))
    }

    /// The newest runs of a schedule (started, skipped and manual), newest first.
    public func scheduleRuns(_ name: String, limit: Int = 20) async throws -> [ScheduleRun] {
        try await run(ScheduleQueries.runs, [name, String(min(max(limit, 1), 1000))]).records.map { row in
            ScheduleRun(
                schedule: try row.string("schedule"), dueAt: try row.string("due_at"), outcome: try row.string("outcome"),
                slots: try row.int("slots"), lastSlotAt: row["last_slot"], sessionId: row["session_id"],
                note: row["note"], createdAt: try row.string("created_at"))
        }
    }

    static func decodeSchedule(_ row: QueryResult.Record?) throws -> Schedule {
        guard let row else { throw DatabaseError.protocolViolation("no schedule returned") }
        return Schedule(
            name: try row.string("name"), kind: try row.string("kind"), input: try json(row["input"]) ?? .object([:]),
            phases: try row.int("phases"), autoPhases: row.bool("auto_phases"),
            everySeconds: row["every_ms"].flatMap(Double.init).map { $0 / 1000 }, cron: row["cron"],
            timeZone: try row.string("time_zone"), nextRunAt: row["next_due"],
            createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at"))
    }
}
