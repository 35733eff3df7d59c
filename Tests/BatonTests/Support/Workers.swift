import Baton
import Foundation
import Logging
import Testing

/// A configuration for tests: fast rescue, short retry delays, quiet poll.
func testConfiguration(batchSize: Int = 4, timeoutMs: Int = 60_000, pollMs: Int = 60_000, maxRetries: Int = 3,
                       retryDelayMs: Int = 20, kinds: [String]? = nil) -> WorkerConfiguration {
    WorkerConfiguration(
        kinds: kinds, batchSize: batchSize, stepTimeoutMs: timeoutMs, pollIntervalMs: pollMs,
        rescueIntervalMs: 200, heartbeatIntervalMs: 100, rescueAfterMs: 1_000, shutdownGraceMs: 5_000,
        retry: RetryPolicy(maxRetries: maxRetries, baseDelayMs: retryDelayMs))
}

func testLogger() -> Logger {
    var logger = Logger(label: "baton.test")
    logger.logLevel = .warning
    return logger
}

/// Runs an in-process worker for the length of `body`.
func withWorker<T: Sendable>(
    _ db: TestDatabase, handlers: HandlerRegistry = HandlerRegistry(EchoHandler()),
    configuration: WorkerConfiguration = testConfiguration(),
    _ body: @Sendable () async throws -> T
) async throws -> T {
    let worker = Worker(configuration: configuration, handlers: handlers, direct: db.directSettings, pool: db.pool, logger: testLogger())
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await worker.run()
            return nil
        }
        do {
            let value = try await body()
            group.cancelAll()
            return value
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// The command-handler spec for the test handler program.
var testHandlerSpec: String { "command:\(TestEnvironment.handlerBinary)" }

/// A `baton` process (worker or CLI) with its output captured to a file. Started with
/// posix_spawn and reaped with waitpid (Foundation's Process did not always notice exits here).
final class BatonProcess: Sendable {
    let pid: pid_t
    let outputPath: String

    convenience init(_ arguments: [String], environment: [String: String], stdinPath: String = "/dev/null") throws {
        try self.init(program: TestEnvironment.batonBinary, arguments, environment: environment, stdinPath: stdinPath)
    }

    /// Any program (a control script, for instance), run the same way.
    init(program: String, _ arguments: [String], environment: [String: String] = [:], stdinPath: String = "/dev/null") throws {
        outputPath = NSTemporaryDirectory() + "baton-\(UUID().uuidString).log"
        var env = ProcessInfo.processInfo.environment
        for key in ["DATABASE_URL", "DIRECT_URL", "BATON_HANDLER", "BATON_KINDS"] { env[key] = nil }
        env.merge(environment) { _, new in new }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard result == 0 else { throw TestFailure("cannot start \(program): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    func kill(_ signal: Int32 = SIGKILL) { _ = Glibc.kill(pid, signal) }

    /// Waits until the output contains `text`; fails if the process exits first or after `timeout` s.
    func awaitOutput(_ text: String, timeout: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !output.contains(text) {
            guard isRunning else { throw TestFailure("baton exited before printing '\(text)': \(output)") }
            guard Date() < deadline else { throw TestFailure("baton did not print '\(text)' in \(timeout) s: \(output)") }
            try await Task.sleep(for: .milliseconds(50))  // allowed: polling a child's log file, which has no notification
        }
    }

    /// True until the process has exited (it is reaped then).
    var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Waits for the exit on a thread of its own; returns the exit status (128+n for signal n).
    func waitForExit() async -> Int32 {
        let pid = self.pid
        return await withCheckedContinuation { continuation in
            Thread {
                var status: Int32 = 0
                var r: pid_t
                repeat { r = waitpid(pid, &status, 0) } while r < 0 && errno == EINTR
                continuation.resume(returning: r < 0 ? -1 : (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }.start()
        }
    }
}

/// Runs `baton <arguments>` to its end; returns exit status and combined output.
func runBaton(_ arguments: [String], environment: [String: String], stdin: String? = nil) async throws -> (status: Int32, output: String) {
    var stdinPath = "/dev/null"
    if let stdin {
        stdinPath = NSTemporaryDirectory() + "baton-stdin-\(UUID().uuidString)"
        try stdin.write(toFile: stdinPath, atomically: true, encoding: .utf8)
    }
    let process = try BatonProcess(arguments, environment: environment, stdinPath: stdinPath)
    let status = await process.waitForExit()
    return (status, process.output)
}
