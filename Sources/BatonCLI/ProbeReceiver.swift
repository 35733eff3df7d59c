import Foundation
import Synchronization

/// One datagram of `builtin:probe` (see `ProbeHandler`): what happened (`k`), for which tagged
/// session and step, or the count `n` of untagged calls, and when (`tw` wall clock, `tm`
/// CLOCK_MONOTONIC, seconds).
struct ProbeMessage: Sendable, Decodable {
    var k: String
    var tag: String?
    var step: Int?
    var n: Int?
    var tw: Double
    var tm: Double?
    var pid: Int32?

    var key: ProbeKey { ProbeKey(kind: k, tag: tag, step: step, n: k == "tick" ? n : nil) }
}

/// What a wait names: the kind, and the tag and step or the tick count where they matter.
struct ProbeKey: Hashable, Sendable {
    var kind: String
    var tag: String?
    var step: Int?
    var n: Int?
}

/// Receives the probe's datagrams on a UNIX socket of its own (its path goes to the workers as
/// `PEERS_SOCK`) on a thread of its own, and lets the bench wait for a given message. The
/// socket has a large receive buffer: the probe drops what does not fit rather than wait.
final class ProbeReceiver: Sendable {
    let path: String
    private let descriptor: Int32
    private let stopping = Atomic<Bool>(false)
    private let state = Mutex(State())

    private struct State {
        var messages: [ProbeKey: [ProbeMessage]] = [:]
        var waiters: [ProbeKey: [(id: Int, continuation: CheckedContinuation<ProbeMessage?, Never>)]] = [:]
        /// Waiting for whatever comes next.
        var anyWaiters: [(id: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiter = 0
        /// Waits whose time ran out before they were registered.
        var expired: Set<Int> = []
        var received = 0
        var threadDone = false
        var closing: CheckedContinuation<Void, Never>?
    }

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws {
        self.path = path
        unlink(path)
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw CLIError.usage("cannot open the probe socket: \(String(cString: strerror(errno)))") }
        var size: Int32 = 8 << 20
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(descriptor)
            throw CLIError.usage("the probe socket path is too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw CLIError.usage("cannot bind the probe socket \(path): \(reason)")
        }
        let thread = Thread { [self] in receive() }
        thread.name = "bench-probe"
        thread.start()
    }

    /// Stops the receiving thread, then closes and removes the socket.
    func close() async {
        stopping.store(true, ordering: .relaxed)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if !state.threadDone { state.closing = continuation }
                return state.threadDone
            }
            if done { continuation.resume() }
        }
        Glibc.close(descriptor)
        unlink(path)
    }

    /// Every message received so far for `key`.
    func messages(_ key: ProbeKey) -> [ProbeMessage] { state.withLock { $0.messages[key] ?? [] } }

    /// Every message of one kind received so far.
    func all(kind: String) -> [ProbeMessage] {
        state.withLock { state in state.messages.filter { $0.key.kind == kind }.flatMap(\.value) }
    }

    /// How many messages have arrived since the start.
    var count: Int { state.withLock { $0.received } }

    /// Forgets what was received (before each measurement: workers count from 1 again).
    func reset() { state.withLock { $0.messages.removeAll() } }

    /// Returns when the next message arrives, or after `timeoutSeconds`.
    func next(timeoutSeconds: Double) async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timer = Task { [weak self] in
            try await Task.sleep(for: .seconds(timeoutSeconds))
            let waiter = self?.state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.anyWaiters.firstIndex(where: { $0.id == id }) else {
                    state.expired.insert(id)
                    return nil
                }
                return state.anyWaiters.remove(at: index).continuation
            }
            waiter?.resume()
        }
        defer { timer.cancel() }
        await withCheckedContinuation { continuation in
            let late = state.withLock { state in
                if state.expired.remove(id) != nil { return true }
                state.anyWaiters.append((id, continuation))
                return false
            }
            if late { continuation.resume() }
        }
    }

    /// The first message for `key`, waiting at most `timeoutSeconds` for it.
    func wait(_ key: ProbeKey, timeoutSeconds: Double) async throws -> ProbeMessage {
        let (id, found): (Int, ProbeMessage?) = state.withLock { state in
            state.nextWaiter += 1
            return (state.nextWaiter, state.messages[key]?.first)
        }
        if let found { return found }
        let timer = Task { [weak self] in
            try await Task.sleep(for: .seconds(timeoutSeconds))
            self?.give(up: id, key)
        }
        defer { timer.cancel() }
        let message = await withCheckedContinuation { (continuation: CheckedContinuation<ProbeMessage?, Never>) in
            let present: ProbeMessage?? = state.withLock { state in
                if let message = state.messages[key]?.first { return .some(message) }
                if state.expired.remove(id) != nil { return .some(nil) }
                state.waiters[key, default: []].append((id, continuation))
                return nil
            }
            if let present { continuation.resume(returning: present) }
        }
        guard let message else {
            let what = [key.kind, key.tag.map { "tag \($0)" }, key.step.map { "step \($0)" }].compactMap { $0 }.joined(separator: " ")
            throw Timeout(description: "no probe message \(what) within \(Int(timeoutSeconds)) s")
        }
        return message
    }

    private func give(up id: Int, _ key: ProbeKey) {
        let waiter = state.withLock { state -> CheckedContinuation<ProbeMessage?, Never>? in
            guard let index = state.waiters[key]?.firstIndex(where: { $0.id == id }) else {
                state.expired.insert(id)
                return nil
            }
            return state.waiters[key]?.remove(at: index).continuation
        }
        waiter?.resume(returning: nil)
    }

    /// The thread's loop: poll with a short timeout (so `close` is noticed), then drain.
    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let decoder = JSONDecoder()
        while !stopping.load(ordering: .relaxed) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            while true {
                let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                guard count > 0 else { break }
                guard let message = try? decoder.decode(ProbeMessage.self, from: Data(buffer[0..<count])) else { continue }
                let key = message.key
                let (ready, any) = state.withLock { state in
                    state.received += 1
                    state.messages[key, default: []].append(message)
                    defer {
                        state.waiters[key] = nil
                        state.anyWaiters = []
                    }
                    return (state.waiters[key] ?? [], state.anyWaiters)
                }
                for waiter in ready { waiter.continuation.resume(returning: message) }
                for waiter in any { waiter.continuation.resume() }
            }
        }
        let closing = state.withLock { state in
            state.threadDone = true
            return state.closing.take()
        }
        closing?.resume()
    }
}
