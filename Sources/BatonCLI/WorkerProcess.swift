import CBatonSupport
import Foundation
import Synchronization

/// A `baton worker` process that `baton bench` starts: this same executable, so the bench
/// measures what users run, in a process of its own (not competing with the bench for its
/// threads). It dies with the bench, even on SIGKILL (`baton_spawn`'s parent-death signal),
/// and its CPU time and resident memory are read from /proc.
final class WorkerProcess: Sendable {
    let pid: pid_t
    let logPath: String
    private let exit: Mutex<ExitState>

    private struct ExitState {
        var status: Int32?
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    /// The running executable (/proc/self/exe), for starting workers of the same build.
    static func ownExecutable() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw CLIError.usage("cannot find this executable (/proc/self/exe) to start worker processes") }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Starts `baton worker` with `environment` on top of this process's own (minus Baton's and
    /// the probe's variables, so nothing leaks in from the caller's shell); output goes to `logPath`.
    static func start(executable: String, environment: [String: String], logPath: String) async throws -> WorkerProcess {
        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !(key.hasPrefix("BATON_") || key.hasPrefix("WORKER_") || key.hasPrefix("PEERS_")
              || ["DATABASE_URL", "DIRECT_URL", "MAX_RETRIES", "RETRY_DELAY", "AUTO_PROGRESS_STEPS", "AUTO_PROGRESS_PHASES"].contains(key))
        }
        env.merge(environment) { _, new in new }
        let merged = env
        let process = try await withCheckedThrowingContinuation { (started: CheckedContinuation<WorkerProcess, any Error>) in
            // The parent-death signal is tied to the thread that spawns, so that thread lives
            // until the child is reaped.
            let thread = Thread {
                let pid = spawn(executable, ["worker"], merged, logPath: logPath)
                guard pid > 0 else {
                    started.resume(throwing: CLIError.usage("cannot start a worker process (\(executable)): \(String(cString: strerror(errno)))"))
                    return
                }
                let process = WorkerProcess(pid: pid, logPath: logPath)
                started.resume(returning: process)
                var status: Int32 = 0
                var reaped: pid_t
                repeat { reaped = waitpid(pid, &status, 0) } while reaped < 0 && errno == EINTR
                let code: Int32 = reaped < 0 ? -1 : (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                let waiters = process.exit.withLock { state in
                    state.status = code
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume(returning: code) }
            }
            thread.name = "bench-worker"
            thread.start()
        }
        return process
    }

    private init(pid: pid_t, logPath: String) {
        self.pid = pid
        self.logPath = logPath
        exit = Mutex(ExitState())
    }

    private static func spawn(_ path: String, _ arguments: [String], _ environment: [String: String], logPath: String) -> pid_t {
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let output = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer {
            if input >= 0 { close(input) }
            if output >= 0 { close(output) }
        }
        guard input >= 0, output >= 0 else { return -1 }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        return baton_spawn(path, argv, envp, input, output, output)
    }

    /// The exit status once it has exited (128 + n for signal n), else nil.
    var exitStatus: Int32? { exit.withLock { $0.status } }

    /// User plus system CPU seconds so far (utime + stime in /proc/<pid>/stat).
    func cpuSeconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name; utime and stime are the 14th and 15th of the whole line.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory in KiB (VmRSS in /proc/<pid>/status).
    func residentKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// The last lines of the worker's output, for an error message.
    func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// SIGTERM (a graceful stop), then waits for the exit; SIGKILL after `graceSeconds`.
    @discardableResult
    func stop(graceSeconds: Double = 30) async -> Int32 {
        if exitStatus == nil { kill(pid, SIGTERM) }
        let pid = self.pid
        let killer = Task {
            try await Task.sleep(for: .seconds(graceSeconds))
            kill(pid, SIGKILL)
        }
        defer { killer.cancel() }
        return await waitForExit()
    }

    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let done: Int32? = exit.withLock { state in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }
}
