import ArgumentParser
import Baton
import Foundation

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Sessions at due times: every period, or on a cron expression.",
        discussion: """
            Exactly one session per due time across all workers (the database decides). Slots missed while no
            worker ran make one catch-up run; a slot that comes due while an earlier run still goes is skipped
            and recorded. Workers plan and fire schedules; `run-now` starts one at once.
            """,
        subcommands: [AddSchedule.self, ListSchedules.self, RemoveSchedule.self, RunScheduleNow.self, ScheduleRuns.self])
}

struct AddSchedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Create or replace a schedule.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The schedule's name (letters, digits, _.:-).") var name: String
    @Option(help: "A fixed period: 30s, 5m, 2h, '1 day', PT10M (at least a second).") var every: String?
    @Option(help: "A 5-field cron expression (minute hour day-of-month month day-of-week) or @hourly, @daily, …") var cron: String?
    @Option(name: .customLong("time-zone"), help: "Time zone of the cron expression (IANA name, default UTC).") var timeZone: String?
    @Option(help: "The kind of the sessions it creates.") var kind: String
    @Option(help: "The sessions' input as JSON (default {}).") var input: String?
    @Option(help: "Phases of each session (default 1).") var phases: Int?
    @Option(name: .customLong("auto-phases"), help: "Phases advance by themselves (default true).") var autoPhases: Bool?

    func validate() throws {
        guard (every == nil) != (cron == nil) else {
            throw ValidationError("give exactly one of --every (a period such as 5m) and --cron (an expression such as '*/5 * * * *')")
        }
        if every != nil && timeZone != nil {
            throw ValidationError("--time-zone applies to --cron only: a fixed period does not depend on the clock's zone")
        }
    }

    func run() async throws {
        try await reportingErrors {
            let spec: ScheduleSpec = every.map { .every($0) } ?? .cron(cron ?? "", timeZone: timeZone)
            let schedule = try await database.makeClient().schedule(
                name: name, spec, kind: kind, inputJSON: input, phases: phases, autoPhases: autoPhases)
            if output.json { try printJSON(schedule) } else { print("scheduled \(describe(schedule))") }
        }
    }
}

struct ListSchedules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The schedules, with their next due time.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let schedules = try await database.makeClient().schedules()
            if output.json { try printJSON(schedules); return }
            if schedules.isEmpty { print("no schedules; add one with `baton schedule add <name> --every 5m --kind <kind>`") }
            for schedule in schedules { print(describe(schedule)) }
        }
    }
}

struct RemoveSchedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a schedule and its run log; sessions it created run on.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The schedule's name.") var name: String

    func run() async throws {
        try await reportingErrors {
            let schedule = try await database.makeClient().unschedule(name)
            if output.json { try printJSON(schedule) } else { print("removed \(describe(schedule))") }
        }
    }
}

struct RunScheduleNow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-now", abstract: "Start a session of the schedule at once (prints its id).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The schedule's name.") var name: String

    func run() async throws {
        try await reportingErrors {
            let session = try await database.makeClient().runSchedule(name)
            if output.json { try printJSON(session) } else { print(session.id) }
        }
    }
}

struct ScheduleRuns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "A schedule's newest runs: started, skipped (and why) or manual.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The schedule's name.") var name: String
    @Option(help: "How many (1-1000).") var limit: Int = 20

    func run() async throws {
        try await reportingErrors {
            let runs = try await database.makeClient().scheduleRuns(name, limit: limit)
            if output.json { try printJSON(runs); return }
            print("due at                    outcome  slots  session / note")
            for run in runs {
                let what = run.note ?? run.sessionId ?? ""
                print("\(run.dueAt.padding(toLength: 26, withPad: " ", startingAt: 0)) \(run.outcome.padding(toLength: 8, withPad: " ", startingAt: 0)) \(String(run.slots).padding(toLength: 6, withPad: " ", startingAt: 0)) \(what)")
            }
        }
    }
}

func describe(_ schedule: Schedule) -> String {
    let spec = schedule.cron.map { "cron '\($0)' in \(schedule.timeZone)" }
        ?? "every \(StatsCommand.number(schedule.everySeconds ?? 0, digits: 0)) s"
    return "\(schedule.name): \(spec) → kind \(schedule.kind), next \(schedule.nextRunAt ?? "(planned by a running worker)")"
}
