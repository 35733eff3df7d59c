import CBatonSupport
import Foundation
import Synchronization

/// One run of a handler program: document on stdin, stdout collected up to a limit, the tail of
/// stderr kept for the error message. The program runs in its own process group and dies with
/// the worker (see `baton_spawn`). All blocking calls happen on a thread of the run's own.
final class ChildProcess: Sendable {
    struct Output: Sendable {
        var stdout: String
        var stderrTail: String
        /// Exit status, or nil when killed by a signal.
        var exitStatus: Int32?
        var signal: Int32?
        var outputTooLarge: Bool
    }

    private enum State {
        case notStarted
        case running(pid_t)
        case finished
        case killedBeforeStart
    }

    private let state = Mutex<State>(.notStarted)
    let path: String
    let arguments: [String]
    let environment: [String: String]

    init(path: String, arguments: [String], environment: [String: String]) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
    }

    /// Kills the whole process group (the program and anything it started).
    func kill() {
        state.withLock { state in
            switch state {
            case .running(let pid): _ = Glibc.kill(-pid, SIGKILL)
            case .notStarted: state = .killedBeforeStart
            case .finished, .killedBeforeStart: break
            }
        }
    }

    /// Runs the program to its end on a dedicated thread. Cancellation kills it.
    func run(input: String, maxOutputBytes: Int) async throws -> Output {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
                let thread = Thread { [self] in
                    continuation.resume(with: Result { try self.runBlocking(input: input, maxOutputBytes: maxOutputBytes) })
                }
                thread.name = "baton-handler"
                thread.start()
            }
        } onCancel: {
            kill()
        }
    }

    private func runBlocking(input: String, maxOutputBytes: Int) throws -> Output {
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        guard baton_pipe_cloexec(&stdinPipe) == 0, baton_pipe_cloexec(&stdoutPipe) == 0, baton_pipe_cloexec(&stderrPipe) == 0 else {
            throw StepFailure("cannot create pipes for \(path): \(String(cString: strerror(errno)))")
        }
        let argv = [path] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        // Spawned from this thread, which lives until the child is reaped: the parent-death
        // signal is tied to the spawning thread.
        let pid: pid_t = try state.withLock { state in
            if case .killedBeforeStart = state { throw CancellationError() }
            let pid = withCStringArray(argv) { a in
                withCStringArray(envp) { e in
                    baton_spawn(path, a.map { UnsafeMutablePointer(mutating: $0) },
                                e.map { UnsafeMutablePointer(mutating: $0) },
                                stdinPipe[0], stdoutPipe[1], stderrPipe[1])
                }
            }
            if pid > 0 { state = .running(pid) }
            return pid
        }
        let spawnErrno = errno
        close(stdinPipe[0]); close(stdoutPipe[1]); close(stderrPipe[1])
        guard pid > 0 else {
            close(stdinPipe[1]); close(stdoutPipe[0]); close(stderrPipe[0])
            throw StepFailure("cannot start \(path): \(String(cString: strerror(spawnErrno)))")
        }
        for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }

        var inputBytes = Array(input.utf8)
        var written = 0
        var stdinFD: Int32 = stdinPipe[1]
        if inputBytes.isEmpty {
            close(stdinFD)
            stdinFD = -1
        }
        var stdoutFD: Int32 = stdoutPipe[0]
        var stderrFD: Int32 = stderrPipe[0]
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        let stderrKeep = 4096
        var tooLarge = false
        var exited: Int32? = nil
        var buffer = [UInt8](repeating: 0, count: 65536)

        while stdoutFD >= 0 || stderrFD >= 0 {
            var fds: [pollfd] = []
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 100)
            if ready == 0 {
                // The program may have exited while a grandchild keeps a pipe open.
                if exited == nil { exited = reap(pid, block: false) }
                if exited != nil { _ = Glibc.kill(-pid, SIGKILL) }
                continue
            }
            if ready < 0 { if errno == EINTR { continue }; break }
            for fd in fds where fd.revents != 0 {
                if fd.fd == stdinFD {
                    let n = inputBytes.withUnsafeBytes { write(stdinFD, $0.baseAddress! + written, $0.count - written) }
                    if n > 0 { written += n }
                    if n < 0 && errno != EAGAIN && errno != EINTR || written >= inputBytes.count {
                        close(stdinFD)
                        stdinFD = -1
                        inputBytes = []
                    }
                } else {
                    let n = read(fd.fd, &buffer, buffer.count)
                    if n > 0 {
                        if fd.fd == stdoutFD {
                            stdout.append(contentsOf: buffer[0..<n])
                            if stdout.count > maxOutputBytes {
                                tooLarge = true
                                _ = Glibc.kill(-pid, SIGKILL)
                                close(stdoutFD)
                                stdoutFD = -1
                            }
                        } else {
                            stderr.append(contentsOf: buffer[0..<n])
                            if stderr.count > 2 * stderrKeep { stderr.removeFirst(stderr.count - stderrKeep) }
                        }
                    } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                        if fd.fd == stdoutFD { close(stdoutFD); stdoutFD = -1 } else { close(stderrFD); stderrFD = -1 }
                    }
                }
            }
        }
        if stdinFD >= 0 { close(stdinFD) }
        let status = exited ?? reap(pid, block: true)
        // Nothing of the group may outlive the step.
        _ = Glibc.kill(-pid, SIGKILL)
        state.withLock { $0 = .finished }
        let tail = stderr.suffix(stderrKeep)
        var output = Output(
            stdout: String(decoding: stdout, as: UTF8.self),
            stderrTail: String(decoding: tail, as: UTF8.self),
            exitStatus: nil, signal: nil, outputTooLarge: tooLarge)
        if let status {
            if status & 0x7f == 0 { output.exitStatus = (status >> 8) & 0xff } else { output.signal = status & 0x7f }
        }
        return output
    }

    /// waitpid; returns the raw status once the child has exited.
    private func reap(_ pid: pid_t, block: Bool) -> Int32? {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, block ? 0 : WNOHANG)
            if r == pid { return status }
            if r < 0 && errno == EINTR { continue }
            return nil
        }
    }
}
