import Baton
import Synchronization

/// A step handler whose steps wait until the test lets them go, and that records which steps
/// started and which were stopped (cancelled) while waiting. Keyed by session id.
final class GatedHandler: StepHandler {
    private struct State {
        var started: [(session: String, step: Step)] = []
        var released: Set<String> = []
        var stopped: Set<String> = []
        var waiting: [String: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())
    /// What a released step returns.
    let answer: String

    init(answer: String = #"{"from": "gated"}"#) {
        self.answer = answer
    }

    func run(_ step: StepContext) async throws -> String {
        let key = step.sessionId
        state.withLock { $0.started.append((key, step.step)) }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let goNow = state.withLock { s -> Bool in
                    if s.released.contains(key) || s.stopped.contains(key) { return true }
                    s.waiting[key] = continuation
                    return false
                }
                if goNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { s in
                s.stopped.insert(key)
                return s.waiting.removeValue(forKey: key)
            }?.resume()
        }
        try Task.checkCancellation()
        return answer
    }

    /// Lets the step of `session` finish (now, or at once when it starts later).
    func release(_ session: String) {
        state.withLock { s in
            s.released.insert(session)
            return s.waiting.removeValue(forKey: session)
        }?.resume()
    }

    /// How many times `step` of `session` started.
    func starts(_ session: String, _ step: Step = .think) -> Int {
        state.withLock { $0.started.filter { $0.session == session && $0.step == step }.count }
    }

    /// True once a waiting step of `session` was stopped by its worker.
    func wasStopped(_ session: String) -> Bool { state.withLock { $0.stopped.contains(session) } }

    /// True while a step of `session` waits for its release.
    func isWaiting(_ session: String) -> Bool { state.withLock { $0.waiting[session] != nil } }
}
