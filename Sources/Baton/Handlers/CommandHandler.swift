import Foundation

/// `command:/path/to/program args…`: runs the program with the handler document on stdin.
/// Exit 0 with JSON on stdout is success; a non-zero exit, a signal, output that is not JSON
/// or output over `maxOutputBytes` fail the attempt with a message that includes the tail of
/// stderr. The worker's timeout cancels the step, which kills the program's process group.
/// The program's environment is the worker's without database URLs and API tokens, plus
/// BATON_TASK_ID, BATON_SESSION_ID, BATON_STEP, BATON_PHASE, BATON_ATTEMPT, BATON_IDEMPOTENCY_KEY.
public struct CommandHandler: StepHandler {
    public let program: String
    public let arguments: [String]
    public let maxOutputBytes: Int

    /// Variables a handler never inherits: they hold credentials.
    static let withheldVariables: Set<String> = ["DATABASE_URL", "DIRECT_URL", "BATON_API_TOKEN", "BATON_API_READ_TOKEN", "PGPASSWORD"]

    public init(program: String, arguments: [String] = [], maxOutputBytes: Int = 1 << 20) throws {
        self.program = try Self.resolve(program)
        self.arguments = arguments
        self.maxOutputBytes = maxOutputBytes
    }

    public func run(_ step: StepContext) async throws -> String {
        var environment = ProcessInfo.processInfo.environment.filter { !Self.withheldVariables.contains($0.key) }
        environment["BATON_TASK_ID"] = String(step.taskId)
        environment["BATON_SESSION_ID"] = step.sessionId
        environment["BATON_STEP"] = step.step.rawValue
        environment["BATON_PHASE"] = String(step.phase)
        environment["BATON_ATTEMPT"] = String(step.attempt)
        environment["BATON_IDEMPOTENCY_KEY"] = step.idempotencyKey
        let child = ChildProcess(path: program, arguments: arguments, environment: environment)
        let output = try await child.run(input: step.documentJSON, maxOutputBytes: maxOutputBytes)
        try Task.checkCancellation()
        let stderr = output.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
        let stderrNote = stderr.isEmpty ? "" : "; stderr: \(stderr)"
        if output.outputTooLarge {
            throw StepFailure("\(program) wrote more than \(maxOutputBytes) bytes to stdout (limit BATON_HANDLER_MAX_OUTPUT)\(stderrNote)")
        }
        if let signal = output.signal {
            throw StepFailure("\(program) was killed by signal \(signal)\(stderrNote)")
        }
        if let status = output.exitStatus, status != 0 {
            throw StepFailure("\(program) exited with status \(status)\(stderrNote)")
        }
        do {
            try JSONText.validate(output.stdout)
        } catch {
            let shown = output.stdout.prefix(200)
            throw StepFailure("\(program) printed output that is not JSON (\(error)): \(shown.debugDescription)\(stderrNote)")
        }
        return output.stdout
    }

    /// An absolute path for `program`: as given when it has a slash, else searched in PATH.
    static func resolve(_ program: String) throws -> String {
        let fm = FileManager.default
        if program.contains("/") {
            let absolute = program.hasPrefix("/") ? program : fm.currentDirectoryPath + "/" + program
            guard fm.isExecutableFile(atPath: absolute) else {
                throw HandlerRegistry.InvalidSpec(description: "handler program \(program) does not exist or is not executable")
            }
            return absolute
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HandlerRegistry.InvalidSpec(description: "handler program \(program) was not found in PATH")
    }
}
