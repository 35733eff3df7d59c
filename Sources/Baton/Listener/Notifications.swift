import CLibPQ
import Foundation

/// A notification from PostgreSQL: channel and payload (ids only, by Baton's convention).
public struct PGNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32
}

/// A self-pipe that wakes a thread blocked in poll(2); used to stop a waiting listener.
/// write(2) and read(2) on a pipe are safe from any thread.
public final class WakeSignal: Sendable {
    let readFD: Int32
    let writeFD: Int32

    public init() {
        var fds: [Int32] = [0, 0]
        if pipe(&fds) != 0 { fds = [-1, -1] }
        for fd in fds where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Wakes the waiter (or the next wait, if none waits now).
    public func signal() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readFD, &buffer, buffer.count) > 0 {}
    }
}

extension DatabaseConnection {
    /// LISTENs on each channel (names are Baton's constants, quoted as identifiers anyway).
    public func listen(_ channels: [String]) throws(DatabaseError) {
        for channel in channels {
            let quoted = "\"" + channel.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            try query("LISTEN \(quoted)")
        }
    }

    /// Blocks this connection's thread until a notification arrives, `timeoutMs` pass, or
    /// `wake` is signalled; returns the notifications received (possibly none).
    public func waitForNotifications(timeoutMs: Int32, wake: WakeSignal) throws(DatabaseError) -> [PGNotification] {
        let connection = try connectedHandle()
        var received = drainNotifications(connection)
        if !received.isEmpty { return received }
        var fds = [
            pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0),
            pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&fds, 2, timeoutMs)
        if ready < 0 && errno != EINTR {
            throw .connection("waiting for notifications failed: \(String(cString: strerror(errno)))")
        }
        if fds[1].revents != 0 { wake.drain() }
        if fds[0].revents != 0 {
            guard PQconsumeInput(connection) == 1 else {
                let message = errorMessage(connection)
                close()
                throw .connection("lost the listening connection to \(settings.safeDescription): \(message)")
            }
            received = drainNotifications(connection)
        }
        return received
    }

    private func drainNotifications(_ connection: OpaquePointer) -> [PGNotification] {
        var out: [PGNotification] = []
        while let note = PQnotifies(connection) {
            out.append(PGNotification(
                channel: String(cString: note.pointee.relname),
                payload: String(cString: note.pointee.extra),
                senderPID: note.pointee.be_pid))
            PQfreemem(note)
        }
        return out
    }
}
