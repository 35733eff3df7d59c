import ArgumentParser
import Baton
import Foundation
import Logging

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
                for review in detail.reviews where review.phase == step.phase && review.step == step.step {
                    print("\ngate: proceeded to \(review.phase).\(review.step.rawValue) by \(review.reviewer) at \(review.at)")
                    if let note = review.note { print("  note     \(note)") }
                    if let payload = review.payload { print("  payload  \(jsonText(payload))") }
                }
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
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Sessions, newest created first.")
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
            if page.sessions.isEmpty { print("no sessions" + (statusFilter != nil || kind != nil ? " match" : " yet")) }
            else {
                // Newest created first, as the list is ordered; the last change after it.
                let rows = page.sessions.map { s in
                    [s.id, s.status.rawValue, "\(s.phase)/\(s.totalPhases)", s.step?.rawValue ?? "-", s.kind, s.createdAt, s.updatedAt]
                }
                for line in alignedTable(["ID", "STATUS", "PHASE", "STEP", "KIND", "CREATED", "UPDATED"], rows) { print(line) }
            }
            if let next = page.nextCursor { print("more: baton session list --after \(next)") }
        }
    }
}

struct ProgressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "progress", abstract: "Where a session is; with --watch, every change until it waits or ends.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The session id.") var id: String
    @Flag(help: ArgumentHelp(
        "Follow the session: print its progress at every change (woken by the database's notifications, no polling) "
        + "until it waits at a gate or is COMPLETED (exit 0), or is FAILED or CANCELLED (exit 1)."))
    var watch = false
    @Flag(name: .customLong("through-gates"), help: "With --watch: keep following at a gate, until someone advances it.")
    var throughGates = false

    func run() async throws {
        try await reportingErrors {
            let client = try database.makeClient()
            guard watch else {
                let progress = try await client.progress(id)
                if output.json { try printJSON(progress) } else { print(describe(progress)) }
                return
            }
            let last = try await follow(client)
            if last.status == .failed || last.status == .cancelled {
                throw ExitCode(1)
            }
        }
    }

    /// Prints each new version of the progress until the session ends; returns the last.
    private func follow(_ client: BatonClient) async throws -> SessionProgress {
        // The listener reports `.listening` once LISTEN is in place (and after every reconnect):
        // the progress is read after that, so no change falls between the read and the wait.
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = id
        let listener = NotificationListener(
            settings: try database.directSettings(), channels: [NotificationListener.sessionChannel],
            logger: Logger(label: "baton.progress", factory: { _ in SwiftLogNoOpLogHandler() }))
        let listening = Task {
            await listener.run(label: "progress-watch") { event in
                switch event {
                case .listening: wake.yield()
                case .notification(let note) where note.payload.isEmpty || note.payload.split(separator: ",").contains(Substring(id)):
                    wake.yield()
                case .notification, .lost: break
                }
            }
        }
        defer { listening.cancel() }
        var shown: Int64 = -1
        for await _ in wakes {
            let progress = try await client.progress(id)
            if progress.version != shown {
                shown = progress.version
                if output.json { try printJSON(progress, compact: true) } else { print(describe(progress) + "\n") }
                fflush(nil)  // each change as it happens, also into a pipe or a file
            }
            if progress.status.isTerminal || progress.status == .failed { return progress }
            if progress.status == .awaitingProceed && !throughGates { return progress }
        }
        throw CancellationError()
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
        commandName: "advance",
        abstract: "Move a session waiting at the gate (AWAITING_PROCEED) into its next step, with an optional review.",
        discussion: """
            The review (who, when, --note, --input) is kept in the session's history (`baton session show`) and handed to the next steps in their document as `review`.
            """)
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The session id.") var id: String
    @Option(help: "A note for the next phase's steps and the history (at most 10,000 characters).") var note: String?
    @Option(name: [.customLong("input"), .customLong("payload")],
            help: "JSON for the next phase's steps (`review.payload` in their document).") var input: String?
    @Option(help: "Who reviewed (default: $USER).") var reviewer: String?

    func run() async throws {
        let reviewer = reviewer ?? ProcessInfo.processInfo.environment["USER"]
        try await runSessionAction(database, output) { client in
            do {
                return try await client.proceed(id, note: note, payloadJSON: input, reviewer: reviewer)
            } catch BatonError.wrongState {
                throw BatonError.wrongState(try await Self.whyNot(client, id))
            }
        }
    }

    /// Says in the CLI's words why the session cannot be advanced now, and what would help.
    static func whyNot(_ client: BatonClient, _ id: String) async throws -> String {
        let status = try await client.session(id).status
        let hint: String
        switch status {
        case .completed, .cancelled: hint = "it has finished"
        case .failed: hint = "`baton retry \(id)` resumes it at the step that failed"
        case .pending, .thinking, .executing, .integrating:
            hint = "its steps are still running; `baton progress --watch \(id)` shows when it reaches the gate"
        case .awaitingProceed: hint = "it reached the gate meanwhile; try again"
        }
        return "cannot advance session '\(id)': it is \(status.rawValue), and only a session waiting at a gate "
            + "(AWAITING_PROCEED) can be advanced; \(hint)"
    }
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
