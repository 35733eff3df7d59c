import Baton
import Foundation
import Testing

/// `command:` handlers that misbehave: each becomes a failed attempt with a clear error, and
/// nothing is lost.
@Suite struct CommandHandlerTests {
    func run(mode: String, timeoutMs: Int = 60_000, maxOutput: Int = 1 << 20, pidFile: String? = nil) async throws -> (TestDatabase, String) {
        let db = try await TestDatabase.create()
        let extra = pidFile.map { ", \"pidFile\": \(JSONText.quote($0))" } ?? ""
        let id = try await db.createSession(input: "{\"mode\": \"\(mode)\"\(extra)}")
        let registry = try HandlerRegistry.parse(testHandlerSpec, maxOutputBytes: maxOutput)
        try await withWorker(db, handlers: registry, configuration: testConfiguration(timeoutMs: timeoutMs, maxRetries: 1, retryDelayMs: 10)) {
            try await db.awaitStatus(id, mode == "ok" ? .completed : .failed)
        }
        return (db, id)
    }

    func attemptErrors(_ db: TestDatabase, _ id: String) async throws -> [String] {
        try await db.query("SELECT error FROM baton.attempts WHERE session_id = $1 ORDER BY attempt", [id]).records.map { $0["error"] ?? "" }
    }

    @Test func aWellBehavedProgramCompletesTheSession() async throws {
        let (db, id) = try await run(mode: "ok")
        let result = try await db.scalar("SELECT result->>'step' FROM baton.tasks WHERE session_id = $1 AND step = 'INTEGRATE'", [id])
        #expect(result == "INTEGRATE")
    }

    @Test func outputThatIsNotJSONFailsClearly() async throws {
        let (db, id) = try await run(mode: "garbage")
        let errors = try await attemptErrors(db, id)
        #expect(errors.count == 2, "both attempts recorded")
        #expect(errors.allSatisfy { $0.contains("printed output that is not JSON") && $0.contains("this is not JSON, sorry") })
    }

    @Test func aNonZeroExitFailsWithTheTailOfStderr() async throws {
        let (db, id) = try await run(mode: "exit1")
        let errors = try await attemptErrors(db, id)
        #expect(errors.count == 2)
        #expect(errors.allSatisfy { $0.contains("exited with status 1") && $0.contains("boom: the external service said no") })
        #expect(try await db.scalar("SELECT error FROM baton.sessions WHERE id = $1", [id])?.contains("exited with status 1") == true)
    }

    @Test func aProgramThatHangsIsKilledAtTheTimeout() async throws {
        let pidFile = NSTemporaryDirectory() + "baton-hang-\(UUID().uuidString)"
        let (db, id) = try await run(mode: "hang", timeoutMs: 1000, pidFile: pidFile)
        let errors = try await attemptErrors(db, id)
        #expect(errors.count == 2)
        #expect(errors.allSatisfy { $0.contains("timed out after 1000 ms") })
        // The hung programs were killed with their process group. (On a loaded machine one may
        // be killed before it got to write its pid; none may survive.)
        let pids = try String(contentsOfFile: pidFile, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        #expect(!pids.isEmpty)
        // SIGKILL is sent when the timeout fires; dying takes the process a moment.
        try await db.awaitCondition("the hung handlers \(pids) to die", timeout: 10) { pids.allSatisfy { !isAlive($0) } }
    }

    @Test func outputOverTheLimitFailsClearly() async throws {
        let (db, id) = try await run(mode: "huge", maxOutput: 64 * 1024)
        let errors = try await attemptErrors(db, id)
        #expect(errors.allSatisfy { $0.contains("wrote more than 65536 bytes to stdout") })
    }

    @Test func aMissingProgramIsACleanConfigurationError() {
        #expect(throws: HandlerRegistry.InvalidSpec.self) { try HandlerRegistry.parse("command:/no/such/program") }
        #expect(throws: HandlerRegistry.InvalidSpec.self) { try HandlerRegistry.parse("carrier-pigeon:coo") }
    }

}

/// True when `pid` runs (a zombie waiting to be reaped counts as gone).
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
