import Synchronization

/// A wake-up that anyone may ring: `wait(upToMs:)` returns when it rang (since the last wait
/// returned) or when the time is up, whichever comes first. Cancellation ends the wait.
final class Alarm: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    init() {}

    func ring() {
        state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.rung = true
                return nil
            }
            s.waiter = nil
            return waiter
        }?.resume()
    }

    func wait(upToMs milliseconds: Int) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .milliseconds(milliseconds))
                if !Task.isCancelled { self.ring() }
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { s -> Bool in
                        if s.rung {
                            s.rung = false
                            return true
                        }
                        s.waiter = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            } onCancel: {
                ring()
            }
            // A ring that comes now stays for the next wait: a wake-up is never lost (at worst one
            // extra pass, when the timer rings just as it is cancelled).
            group.cancelAll()
        }
    }
}
