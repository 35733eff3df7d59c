import Baton
import Foundation
import Synchronization

/// A step handler for watch sessions: records what each run saw when its THINK step started
/// (key, op, changes, row), notices two runs of one key overlapping, and can hold THINK steps
/// until the test lets them go.
final class ChangeRecorder: StepHandler {
    struct Run: Sendable {
        var session: String
        var key: String
        var op: String
        var changes: Int
        /// The row as JSON text (nil when the change has none).
        var row: String?
        func rowValue(_ column: String) -> Any? {
            guard let row, let object = try? JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any] else { return nil }
            return object[column]
        }
    }

    private struct State {
        var runs: [Run] = []
        var active: [String: String] = [:]  // key → session between THINK start and INTEGRATE end
        var overlaps: [String] = []
        var holding: Bool
        var held: [CheckedContinuation<Void, Never>] = []
        var arrivalWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state: Mutex<State>
    /// Runs for work each step does after recording (e.g. writing back to the row).
    let afterStep: @Sendable (StepContext, Run) async throws -> Void

    init(holding: Bool = false, afterStep: @escaping @Sendable (StepContext, Run) async throws -> Void = { _, _ in }) {
        state = Mutex(State(holding: holding))
        self.afterStep = afterStep
    }

    func run(_ step: StepContext) async throws -> String {
        let change = Self.change(step)
        let run = Run(session: step.sessionId, key: change?["key"] as? String ?? "?", op: change?["op"] as? String ?? "?",
                      changes: change?["changes"] as? Int ?? 0,
                      row: (change?["row"]).flatMap { $0 is NSNull ? nil : try? JSONSerialization.data(withJSONObject: $0) }
                        .map { String(decoding: $0, as: UTF8.self) })
        if step.step == .think {
            let hold = state.withLock { s -> Bool in
                if let other = s.active[run.key], other != run.session { s.overlaps.append("\(run.key): \(other) and \(run.session)") }
                s.active[run.key] = run.session
                s.runs.append(run)
                let ready = s.arrivalWaiters.filter { $0.count <= s.runs.count }
                s.arrivalWaiters.removeAll { $0.count <= s.runs.count }
                ready.forEach { $0.continuation.resume() }
                return s.holding
            }
            if hold {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let goNow = state.withLock { s -> Bool in
                        guard s.holding else { return true }
                        s.held.append(continuation)
                        return false
                    }
                    if goNow { continuation.resume() }
                }
            }
        }
        try await afterStep(step, run)
        if step.step == .integrate {
            state.withLock { s in if s.active[run.key] == run.session { s.active[run.key] = nil } }
        }
        return "{\"seen\": \(JSONText.quote(run.op))}"
    }

    /// Lets every held step go, and stops holding.
    func releaseAll() {
        state.withLock { s in
            s.holding = false
            defer { s.held.removeAll() }
            return s.held
        }.forEach { $0.resume() }
    }

    /// Waits until `count` runs have started their THINK step; fails after `timeout` seconds.
    func awaitRuns(_ count: Int, timeout: Double = 60) async throws {
        let arrived = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = self.state.withLock { s -> Bool in
                        if s.runs.count >= count { return true }
                        s.arrivalWaiters.append((count, continuation))
                        return false
                    }
                    if now { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))  // allowed: a bound on failure; the arrival itself is awaited
                return false
            }
            let first = await group.next() ?? false
            // Frees the arrival waiter if the time ran out (it resumes with no effect later).
            if !first { self.state.withLock { s in defer { s.arrivalWaiters.removeAll() }; return s.arrivalWaiters }.forEach { $0.continuation.resume() } }
            group.cancelAll()
            return first
        }
        guard arrived else { throw TestFailure("only \(runs.count) of \(count) runs started within \(timeout) s: \(runs.map(\.key))") }
    }

    var runs: [Run] { state.withLock { $0.runs } }
    /// Pairs of sessions of one key that ran at the same time (must stay empty).
    var overlaps: [String] { state.withLock { $0.overlaps } }

    static func change(_ step: StepContext) -> [String: Any]? {
        guard let document = try? JSONSerialization.jsonObject(with: Data(step.documentJSON.utf8)) as? [String: Any] else { return nil }
        return document["change"] as? [String: Any]
    }
}
