import Foundation
import Synchronization

/// A serial executor that runs every job on one dedicated OS thread. An actor whose
/// `unownedExecutor` is one of these may make blocking calls (libpq's) without stalling
/// Swift's cooperative thread pool: only its own thread waits.
public final class ThreadExecutor: SerialExecutor, Sendable {
    private struct Queue {
        var jobs: [UnownedJob] = []
        var stopping = false
    }

    private let queue = Mutex(Queue())
    /// Signalled once per enqueued job (and on shutdown); the thread sleeps on it.
    private let wakeup = DispatchSemaphore(value: 0)

    /// Creates the executor and starts its thread.
    public init(name: String) {
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.jobs.append(job) }
        wakeup.signal()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread end once the jobs already queued have run.
    public func shutdown() {
        queue.withLock { $0.stopping = true }
        wakeup.signal()
    }

    private func runLoop() {
        while true {
            wakeup.wait()
            // Take everything queued: later signals for jobs run here find an empty queue.
            let (batch, stop) = queue.withLock { q in
                defer { q.jobs.removeAll(keepingCapacity: true) }
                return (q.jobs, q.stopping)
            }
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
            if stop { return }
        }
    }
}
