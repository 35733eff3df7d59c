import Baton
import Foundation
import Logging
import Testing

/// A configuration for tests: fast rescue, short retry delays, quiet poll.
func testConfiguration(batchSize: Int = 4, timeoutMs: Int = 60_000, pollMs: Int = 60_000, maxRetries: Int = 3,
                       retryDelayMs: Int = 20, kinds: [String]? = nil) -> WorkerConfiguration {
    WorkerConfiguration(
        kinds: kinds, batchSize: batchSize, stepTimeoutMs: timeoutMs, pollIntervalMs: pollMs,
        rescueIntervalMs: 200, shutdownGraceMs: 5_000,
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
    let worker = Worker(configuration: configuration, handlers: handlers, direct: db.settings, pool: db.pool, logger: testLogger())
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

/// A `baton` process (worker or CLI) with its output captured to a file.
final class BatonProcess: Sendable {
    let process: Process
    let outputPath: String

    init(_ arguments: [String], environment: [String: String]) throws {
        outputPath = NSTemporaryDirectory() + "baton-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.batonBinary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in ["DATABASE_URL", "DIRECT_URL", "BATON_HANDLER", "BATON_KINDS"] { env[key] = nil }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    var pid: Int32 { process.processIdentifier }
    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    func kill(_ signal: Int32 = SIGKILL) { _ = Glibc.kill(process.processIdentifier, signal) }

    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Runs `baton <arguments>` to its end; returns exit status and combined output.
func runBaton(_ arguments: [String], environment: [String: String], stdin: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TestEnvironment.batonBinary)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for key in ["DATABASE_URL", "DIRECT_URL", "BATON_HANDLER"] { env[key] = nil }
    env.merge(environment) { _, new in new }
    process.environment = env
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}
