import CoreMetrics
import Prometheus
import Synchronization

/// The one Prometheus registry of a process: worker metrics, HTTP metrics (through the global
/// `MetricsSystem`) and the API's scrape-time gauges all land in it.
public enum ProcessMetrics {
    private static let bootstrapped = Mutex<(PrometheusCollectorRegistry, PrometheusMetricsFactory)?>(nil)

    /// The registry and its factory, made once; the first call bootstraps `MetricsSystem` with
    /// it (which a process can do only once: an application that does so itself passes its
    /// registry to `ProcessHost` as `.registry(_:)` instead).
    public static func shared() -> (registry: PrometheusCollectorRegistry, factory: PrometheusMetricsFactory) {
        bootstrapped.withLock { current in
            if let current { return current }
            let registry = PrometheusCollectorRegistry()
            let factory = factory(for: registry)
            MetricsSystem.bootstrap(factory)
            current = (registry, factory)
            return (registry, factory)
        }
    }

    /// A factory writing to `registry`, with duration buckets for steps.
    public static func factory(for registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Steps run from milliseconds (echo) to minutes (slow services).
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        ]
        return factory
    }
}
