import Synchronization

/// One timer for the WORKER_TIMEOUT of every running step. A `Task.sleep` that is cancelled
/// keeps its memory until its deadline would have come: a sleep of WORKER_TIMEOUT (5 minutes)
/// per step held about 700 bytes per step for 5 minutes, so a busy worker's memory grew to
/// hundreds of MB (`baton bench`'s soak found it). Here a deadline is an entry in a table that
/// one sleeper task watches; removing the entry frees it at once.
final class StepDeadlines: Sendable {
    /// The one table of this process.
    static let shared = StepDeadlines()

    /// The sleeper wakes at the earliest deadline, and at least this often while any is
    /// pending, so that a deadline added earlier than the one it sleeps towards (another
    /// timeout) is at most this late.
    static let longestSleepMs = 250

    private struct Entry {
        var at: ContinuousClock.Instant
        var fire: @Sendable () -> Void
    }

    private struct State {
        var lastToken: UInt64 = 0
        var pending: [UInt64: Entry] = [:]
        var sleeperRuns = false
    }

    private let state = Mutex(State())

    /// Calls `fire` once `milliseconds` have passed, unless `remove` comes first.
    func add(afterMs milliseconds: Int, _ fire: @escaping @Sendable () -> Void) -> UInt64 {
        let at = ContinuousClock.now.advanced(by: .milliseconds(milliseconds))
        let (token, startSleeper) = state.withLock { state -> (UInt64, Bool) in
            state.lastToken += 1
            state.pending[state.lastToken] = Entry(at: at, fire: fire)
            defer { state.sleeperRuns = true }
            return (state.lastToken, !state.sleeperRuns)
        }
        if startSleeper { Task.detached { await self.watch() } }
        return token
    }

    func remove(_ token: UInt64) {
        _ = state.withLock { $0.pending.removeValue(forKey: token) }
    }

    /// How many deadlines are pending (for tests).
    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Sleeps to the earliest deadline, fires what is due, and ends when nothing is pending
    /// (the next `add` starts it again). Its sleeps are never cancelled.
    private func watch() async {
        var sleepMs = 0
        while true {
            if sleepMs > 0 { try? await Task.sleep(for: .milliseconds(sleepMs)) }
            let now = ContinuousClock.now
            let (due, next): ([@Sendable () -> Void], Int?) = state.withLock { state in
                var due: [@Sendable () -> Void] = []
                var earliest: ContinuousClock.Instant?
                for (token, entry) in state.pending {
                    if entry.at <= now {
                        due.append(entry.fire)
                        state.pending[token] = nil
                    } else if earliest.map({ entry.at < $0 }) ?? true {
                        earliest = entry.at
                    }
                }
                guard let earliest else {
                    state.sleeperRuns = false
                    return (due, nil)
                }
                let ms = Int(((earliest - now).nanoseconds + 999_999) / 1_000_000)
                return (due, max(1, min(ms, Self.longestSleepMs)))
            }
            for fire in due { fire() }
            guard let next else { return }
            sleepMs = next
        }
    }
}
