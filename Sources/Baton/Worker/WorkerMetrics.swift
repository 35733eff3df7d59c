import CoreMetrics
import Synchronization

/// What a worker reports through swift-metrics (the API serves it at `/metrics` in Prometheus
/// text). Handles are created once per label set and cached: creating one per step would go
/// through the factory's lock on the hot path.
public final class WorkerMetrics: Sendable {
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: Timer]>([:])
    private let notifyToStart: Timer

    /// - Parameter factory: where the metrics go; `MetricsSystem.factory` by default.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        notifyToStart = Timer(label: "baton_notify_to_start_seconds", dimensions: [], preferredDisplayUnit: .seconds, factory: factory)
    }

    /// A committed step: outcome is SUCCEEDED, RETRY, FAILED, DISCARDED or DEFERRED.
    func stepFinished(kind: String, step: String, outcome: String, durationNanoseconds: Int64) {
        counter("baton_steps_total", [("kind", kind), ("step", step), ("outcome", outcome.lowercased())]).increment()
        if outcome == "RETRY" {
            counter("baton_step_retries_total", [("kind", kind), ("step", step)]).increment()
        }
        timer("baton_step_duration_seconds", [("kind", kind), ("step", step)]).recordNanoseconds(durationNanoseconds)
    }

    /// Steps the rescuer took back from a worker that went away (or a deferred step past its deadline).
    func stepsRescued(_ count: Int) {
        guard count > 0 else { return }
        counter("baton_steps_rescued_total", []).increment(by: count)
    }

    /// Time from the notification that named a task to its handler's start.
    func notifiedStepStarted(afterNanoseconds nanoseconds: Int64) {
        notifyToStart.recordNanoseconds(nanoseconds)
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = Self.key(label, dimensions)
        return counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = Counter(label: label, dimensions: dimensions, factory: factory)
            cache[key] = counter
            return counter
        }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        let key = Self.key(label, dimensions)
        return timers.withLock { cache in
            if let timer = cache[key] { return timer }
            let timer = Timer(label: label, dimensions: dimensions, preferredDisplayUnit: .seconds, factory: factory)
            cache[key] = timer
            return timer
        }
    }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.reduce(label) { $0 + "\u{1}" + $1.0 + "=" + $1.1 }
    }
}
