import ArgumentParser
import Baton
import Foundation

struct SessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Create, show and list sessions.",
        subcommands: [CreateSession.self, ShowSession.self, ListSessions.self])
}

struct CreateSession: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a session; its first step is queued at once.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Number of phases (1-1000).")
    var phases: Int = 1
    @Option(help: "The session input as JSON; '-' reads it from stdin.")
    var input: String = "{}"
    @Option(help: "The session id (default: a generated UUID).")
    var id: String?
    @Option(help: "The session kind (default 'default').")
    var kind: String?
    @Option(name: .customLong("auto-steps"), help: "Steps advance by themselves (env AUTO_PROGRESS_STEPS, default true).")
    var autoSteps: Bool?
    @Option(name: .customLong("auto-phases"), help: "Phases advance without a person (env AUTO_PROGRESS_PHASES, default false).")
    var autoPhases: Bool?

    func run() async throws {
        try await reportingErrors {
            var text = input
            if text == "-" {
                guard let read = String(validating: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) else {
                    throw BatonError.badInput("the session input on stdin is not valid UTF-8; send JSON encoded as UTF-8")
                }
                text = read
            }
            let session = try await database.makeClient().createSession(
                phases: phases, inputJSON: text, id: id, kind: kind,
                autoSteps: try boolSetting(autoSteps, "AUTO_PROGRESS_STEPS", default: true),
                autoPhases: try boolSetting(autoPhases, "AUTO_PROGRESS_PHASES", default: false))
            if output.json { try printJSON(session) } else { print(session.id) }
        }
    }
}

struct ShowSession: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A session with its steps, results, errors and attempts.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The session id.") var id: String

    func run() async throws {
        try await reportingErrors {
            let detail = try await database.makeClient().sessionDetail(id)
            if output.json { try printJSON(detail); return }
            print(describe(detail.session))
            for step in detail.steps {
                print("\n\(step.phase).\(step.step.rawValue)  \(step.status.rawValue)  attempts \(step.attempt)")
                if let result = step.result { print("  result  \(jsonText(result))") }
                if let error = step.error { print("  error   \(error)") }
                for attempt in step.attempts {
                    let note = attempt.error.map { "  \($0)" } ?? ""
                    print("  #\(attempt.attempt) \(attempt.outcome) by \(attempt.workerId ?? "?") at \(attempt.finishedAt)\(note)")
                }
            }
        }
    }
}

struct ListSessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Sessions, newest first.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Only this status (PENDING, THINKING, ..., CANCELLED).") var status: String?
    @Option(help: "Only this kind.") var kind: String?
    @Option(help: "Page size (1-1000).") var limit: Int = 50
    @Option(help: "The cursor printed after the previous page.") var after: String?

    func run() async throws {
        try await reportingErrors {
            var statusFilter: SessionStatus?
            if let status {
                guard let parsed = SessionStatus(rawValue: status.uppercased()) else {
                    throw BatonError.badInput("unknown status '\(status)'; use one of \(SessionStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                statusFilter = parsed
            }
            guard (1...1000).contains(limit) else {
                throw BatonError.badInput("limit must be a whole number from 1 to 1000 (got \(limit))")
            }
            let page = try await database.makeClient().listSessions(status: statusFilter, kind: kind, limit: limit, after: after)
            if output.json {
                struct Page: Encodable { var sessions: [Session]; var nextCursor: String? }
                try printJSON(Page(sessions: page.sessions, nextCursor: page.nextCursor))
                return
            }
            for s in page.sessions {
                print("\(s.id)  \(s.status.rawValue)  phase \(s.phase)/\(s.totalPhases) \(s.step?.rawValue ?? "-")  \(s.kind)  \(s.updatedAt)")
            }
            if let next = page.nextCursor { print("more: baton session list --after \(next)") }
        }
    }
}

struct ProgressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "progress", abstract: "Where a session is.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The session id.") var id: String

    func run() async throws {
        try await reportingErrors {
            let progress = try await database.makeClient().progress(id)
            if output.json { try printJSON(progress) } else { print(describe(progress)) }
        }
    }
}

/// advance, retry and cancel share their shape: one id in, the session out.
func runSessionAction(_ database: DatabaseOptions, _ output: OutputOptions,
                      _ act: (BatonClient) async throws -> Session) async throws {
    try await reportingErrors {
        let session = try await act(try database.makeClient())
        if output.json { try printJSON(session) } else { say(describe(session)) }
    }
}

struct AdvanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advance", abstract: "Move a session waiting at the gate (AWAITING_PROCEED) into its next step.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The session id.") var id: String
    func run() async throws { try await runSessionAction(database, output) { try await $0.proceed(id) } }
}

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Resume a FAILED session at the step that failed, keeping earlier results.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The session id.") var id: String
    func run() async throws { try await runSessionAction(database, output) { try await $0.retry(id) } }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a session; a step still running has its result discarded.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The session id.") var id: String
    func run() async throws { try await runSessionAction(database, output) { try await $0.cancel(id) } }
}
