import Synchronization

/// Where everything that happens to a worker lands: finished steps, wake-ups, shutdown. The
/// worker's loop takes all of it at once, so finished steps that pile up while it waits on the
/// database are committed together (group commit), and many wake-ups make one claim.
final class WorkerInbox: Sendable {
    struct News {
        var finished: [StepOutcome] = []
        /// Scan for ready tasks (a notification, the poll, a timer, a reconnected listener).
        var scan = false
        /// The listener is in place; the first scan may run.
        var listening = false
        /// Time to tell the database this worker is alive.
        var heartbeat = false
        var shutdown = false
        var graceOver = false
        /// Task ids named by notifications, with the time each arrived.
        var notified: [Int64: ContinuousClock.Instant] = [:]
        /// Wall-clock times (epoch ms) at which steps queued for later become ready.
        var readyAt: [Int64] = []
    }

    private let news = Mutex(News())
    let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    init() {
        (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func post(_ update: (inout News) -> Void) {
        news.withLock { update(&$0) }
        ring.yield()
    }

    func take() -> News {
        news.withLock { current in
            let taken = current
            current = News()
            return taken
        }
    }

    /// Wakes the loop without news (it has more work of its own).
    func wake() { ring.yield() }

    func close() { ring.finish() }
}
