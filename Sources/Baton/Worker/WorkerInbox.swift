import Foundation
import Synchronization

/// Where everything that happens to a worker lands, each event with the time it happened:
/// finished steps, notifications, ticks, timers, shutdown. The worker's loop takes all of it
/// at once whenever its connection is free, so finished steps that pile up while it waits on
/// the database are committed together (group commit), and many wake-ups make one claim.
final class WorkerInbox: Sendable {
    typealias Entry = (event: WorkerMachine.Event, at: WorkerMachine.Now)

    let clock: WorkerClock
    private let entries = Mutex<[Entry]>([])
    let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    init(clock: WorkerClock = WorkerClock()) {
        self.clock = clock
        (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func post(_ event: WorkerMachine.Event) {
        let now = clock.now()
        entries.withLock { $0.append((event, now)) }
        ring.yield()
    }

    /// Everything posted since the last take, oldest first.
    func take() -> [Entry] {
        entries.withLock { current in
            let taken = current
            current.removeAll(keepingCapacity: true)
            return taken
        }
    }
}

/// The one place a worker reads the time; `WorkerMachine` gets it with every event.
struct WorkerClock: Sendable {
    private let origin = ContinuousClock.now

    func now() -> WorkerMachine.Now {
        WorkerMachine.Now(monotonic: ContinuousClock.now - origin, epochMs: Int64(Date().timeIntervalSince1970 * 1000))
    }
}
