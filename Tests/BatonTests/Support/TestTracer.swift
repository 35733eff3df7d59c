import Foundation
import InMemoryTracing
import Synchronization
import Tracing

/// swift-distributed-tracing's in-memory tracer, with W3C-shaped ids and W3C `traceparent`
/// propagation, as a real exporter's tracer (swift-otel) propagates: the tests check the header
/// a service called by a step receives, and continue a caller's trace into the API.
struct W3CTestTracer: Tracer {
    let recorded: InMemoryTracer

    init() {
        recorded = InMemoryTracer(idGenerator: .init(
            nextTraceID: { Self.hex(bytes: 16) }, nextSpanID: { Self.hex(bytes: 8) }))
    }

    static func hex(bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    var finishedSpans: [FinishedInMemorySpan] { recorded.finishedSpans }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        recorded.startSpan(operationName, context: context(), ofKind: kind, at: instant(),
                           function: function, file: fileID, line: line)
    }

    func forceFlush() { recorded.forceFlush() }

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Carrier == Inject.Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Carrier == Extract.Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier) else { return }
        let parts = header.split(separator: "-")
        guard parts.count == 4, parts[1].count == 32, parts[2].count == 16 else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: String(parts[1]), spanID: String(parts[2]), parentSpanID: nil)
    }
}

extension SpanAttributes {
    func string(_ key: String) -> String? {
        if case .string(let value)? = get(key) { return value }
        return nil
    }

    func int(_ key: String) -> Int64? {
        switch get(key) {
        case .int64(let value)?: return value
        case .int32(let value)?: return Int64(value)
        default: return nil
        }
    }

    func int64Array(_ key: String) -> [Int64] {
        if case .int64Array(let value)? = get(key) { return value }
        return []
    }
}
