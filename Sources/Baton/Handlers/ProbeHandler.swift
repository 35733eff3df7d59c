import BatonCore
import Foundation
import Synchronization

/// `builtin:probe`: a step handler for benchmarks that does nothing but tell a driver when it
/// ran, in JSON datagrams to the UNIX socket named by `PEERS_SOCK` (the protocol of the peer
/// benchmark, so `baton bench` and that driver measure Baton with the same probe). Every
/// message carries `tw` (wall clock) and `tm` (CLOCK_MONOTONIC), in seconds, read as the step
/// starts, and the worker's `pid`. Without `PEERS_SOCK` it sends nothing.
///
/// - A session input with a `tag` (`{"tag": T}`, as latency runs create) makes every step send
///   `{"k": "start", "tag": T, "step": 1|2|3, "phase": P}` (THINK, EXECUTE, INTEGRATE), and
///   THINK and EXECUTE also send `{"k": "enq", "tag": T, "step": next}` as they hand their
///   result back: in Baton the worker, not the handler, queues the next step, so that moment
///   is the handler's last act (`tw0` = `tw`).
/// - Any other input counts the call in this process: the 1st sends `{"k": "first"}`, the
///   `PEERS_N`-th `{"k": "nth", "n": N}`, and with `PEERS_TICK` = t every t-th call sends
///   `{"k": "tick", "n": count}`; all other calls send nothing (throughput runs).
///
/// Sends never block: a datagram the receiver has no room for is dropped.
public struct ProbeHandler: StepHandler {
    private let state: ProbeState

    /// `socketPath` nil sends nothing; `expected` is `PEERS_N`, `tickEvery` `PEERS_TICK` (0: none).
    public init(socketPath: String?, expected: Int = 0, tickEvery: Int = 0) {
        state = ProbeState(socketPath: socketPath, expected: expected, tickEvery: tickEvery)
    }

    /// Reads `PEERS_SOCK`, `PEERS_N` and `PEERS_TICK`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ProbeHandler {
        let path = environment["PEERS_SOCK"].flatMap { $0.isEmpty ? nil : $0 }
        return ProbeHandler(socketPath: path, expected: Int(environment["PEERS_N"] ?? "") ?? 0,
                            tickEvery: Int(environment["PEERS_TICK"] ?? "") ?? 0)
    }

    public func run(_ step: StepContext) async throws -> String {
        var wall = timespec(), monotonic = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        guard state.sends else { return "{}" }
        let times = "\"tw\":\(Self.seconds(wall)),\"tm\":\(Self.seconds(monotonic)),\"pid\":\(state.pid)"
        // Only a tagged input is parsed: the throughput path stays a counter.
        if step.inputJSON.utf8.count > 2, step.inputJSON.contains("\"tag\""),
           let tag = (try? JSONText.objectMembers(step.inputJSON))??.first(where: { $0.key == "tag" })?.value {
            let index = step.step == .think ? 1 : step.step == .execute ? 2 : 3
            state.send("{\"k\":\"start\",\"tag\":\(tag),\"step\":\(index),\"phase\":\(step.phase),\(times)}")
            if index < 3 {
                var done = timespec(), doneMonotonic = timespec()
                clock_gettime(CLOCK_REALTIME, &done)
                clock_gettime(CLOCK_MONOTONIC, &doneMonotonic)
                let at = Self.seconds(done)
                state.send("{\"k\":\"enq\",\"tag\":\(tag),\"step\":\(index + 1),\"phase\":\(step.phase),"
                           + "\"tw\":\(at),\"tw0\":\(at),\"tm\":\(Self.seconds(doneMonotonic)),\"pid\":\(state.pid)}")
            }
            return "{}"
        }
        let count = state.calls.wrappingAdd(1, ordering: .relaxed).newValue
        if count == 1 { state.send("{\"k\":\"first\",\(times)}") }
        if count == state.expected { state.send("{\"k\":\"nth\",\"n\":\(count),\(times)}") }
        if state.tickEvery > 0, count % state.tickEvery == 0 { state.send("{\"k\":\"tick\",\"n\":\(count),\(times)}") }
        return "{}"
    }

    private static func seconds(_ time: timespec) -> Double {
        Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// The probe's socket and call counter, shared by every step of the process. Immutable but for
/// the atomic counter; the descriptor is written once, at init.
private final class ProbeState: Sendable {
    let calls = Atomic<Int>(0)
    let expected: Int
    let tickEvery: Int
    let pid = getpid()
    private let descriptor: Int32
    private let path: [UInt8]

    init(socketPath: String?, expected: Int, tickEvery: Int) {
        self.expected = expected
        self.tickEvery = tickEvery
        let path = socketPath.map { Array($0.utf8) } ?? []
        // sun_path holds 108 bytes with the terminating NUL; a longer path cannot be addressed.
        let usable = !path.isEmpty && path.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        self.path = usable ? path : []
        descriptor = usable ? socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) : -1
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    var sends: Bool { descriptor >= 0 }

    /// One datagram, without waiting: MSG_DONTWAIT drops it when the receiver's buffer is full
    /// (or nobody listens) rather than holding up the step.
    func send(_ message: String) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        var message = message
        message.withUTF8 { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    _ = sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT),
                               socketAddress, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
    }
}
