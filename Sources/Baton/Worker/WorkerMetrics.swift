import CoreMetrics
import Synchronization

/// What a worker reports through swift-metrics (the API serves it at `/metrics` in Prometheus
/// text). Handles are created once per (kind, step, outcome) and cached: the commit path looks
/// one up per step, so the key is a plain struct (no string building), and only a first sight
/// goes through the factory.
public final class WorkerMetrics: Sendable {
    private struct StepKey: Hashable {
        var kind: String
        var step: String
        var verdict: StepVerdict
    }

    private struct Handles {
        var steps: Counter
        var retries: Counter?
        var duration: Timer
    }

    private let factory: any MetricsFactory
    private let handles = Mutex<[StepKey: Handles]>([:])
    private let notifyToStart: Timer
    private let rescued: Counter

    /// - Parameter factory: where the metrics go; `MetricsSystem.factory` by default.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        notifyToStart = Timer(label: "baton_notify_to_start_seconds", dimensions: [], preferredDisplayUnit: .seconds, factory: factory)
        rescued = Counter(label: "baton_steps_rescued_total", dimensions: [], factory: factory)
    }

    /// A committed step and what the commit made of it.
    func stepFinished(kind: String, step: String, verdict: StepVerdict, durationNanoseconds: Int64) {
        let handles = handles(StepKey(kind: kind, step: step, verdict: verdict))
        handles.steps.increment()
        handles.retries?.increment()
        handles.duration.recordNanoseconds(durationNanoseconds)
    }

    /// Steps the rescuer took back from a worker that went away (or a deferred step past its deadline).
    func stepsRescued(_ count: Int) {
        if count > 0 { rescued.increment(by: count) }
    }

    /// Time from the notification that named a task to its handler's start.
    func notifiedStepStarted(afterNanoseconds nanoseconds: Int64) {
        notifyToStart.recordNanoseconds(nanoseconds)
    }

    private func handles(_ key: StepKey) -> Handles {
        handles.withLock { cache in
            if let found = cache[key] { return found }
            let step = [("kind", key.kind), ("step", key.step)]
            let made = Handles(
                steps: Counter(label: "baton_steps_total", dimensions: step + [("outcome", key.verdict.rawValue.lowercased())], factory: factory),
                retries: key.verdict == .retry ? Counter(label: "baton_step_retries_total", dimensions: step, factory: factory) : nil,
                duration: Timer(label: "baton_step_duration_seconds", dimensions: step, preferredDisplayUnit: .seconds, factory: factory))
            cache[key] = made
            return made
        }
    }
}
