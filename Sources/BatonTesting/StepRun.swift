import Baton
import Foundation

/// What became of one handler run, classified the way a worker classifies it
/// (Sources/Baton/Worker/StepRunner.swift), so a test sees what the worker would record.
public enum HandlerOutcome: Sendable, Hashable, CustomStringConvertible {
    /// The handler returned storable JSON: the step's result.
    case succeeded(json: String)
    /// The attempt failed: a `StepFailure` (its message and `permanent`), any other error
    /// ("the handler threw: …", retried), or text that is not storable JSON (retried).
    case failed(message: String, permanent: Bool)
    /// The handler threw `StepDeferred`: the step continues elsewhere.
    case deferred(reason: String)
    /// The handler did not finish within the timeout; it was cancelled.
    case timedOut(Duration)

    /// The result's JSON text when the handler succeeded.
    public var resultJSON: String? {
        if case .succeeded(let json) = self { return json }
        return nil
    }

    /// The result as a value when the handler succeeded.
    public var resultValue: JSONValue? {
        resultJSON.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    /// The result's JSON text, or a `BatonTestingError` saying how the run ended instead.
    public func result() throws -> String {
        guard let resultJSON else { throw BatonTestingError("expected the handler to succeed, but \(self)") }
        return resultJSON
    }

    /// The failure message, or a `BatonTestingError` saying how the run ended instead.
    public func failureMessage() throws -> String {
        guard case .failed(let message, _) = self else { throw BatonTestingError("expected the handler to fail, but \(self)") }
        return message
    }

    public var description: String {
        switch self {
        case .succeeded(let json): "it succeeded with \(json.count > 500 ? json.prefix(500) + "…" : json)"
        case .failed(let message, let permanent): "it failed\(permanent ? " permanently" : ""): \(message)"
        case .deferred(let reason): "it deferred the step: \(reason)"
        case .timedOut(let timeout): "it did not finish within \(timeout) and was cancelled"
        }
    }
}

/// Runs `handler` once on `context`, without a worker or a database, and returns what a worker
/// would record. The handler runs as the worker runs it: in its own task, cancelled when
/// `timeout` passes (and this returns then even if the handler ignores cancellation).
public func runStep(_ handler: any StepHandler, _ context: StepContext, timeout: Duration = .seconds(60)) async -> HandlerOutcome {
    let timeoutMs = max(1, Int(timeout / .milliseconds(1)))
    switch await StepRunner.run(handler, context, timeoutMs: timeoutMs) {
    case .succeeded(let json): return .succeeded(json: json)
    case .failed(let message, let permanent): return .failed(message: message, permanent: permanent)
    case .deferred(let reason): return .deferred(reason: reason)
    // The deadline passed, or the test itself was cancelled.
    case .stopped: return .timedOut(timeout)
    }
}

/// Runs `handler` once on a handler document (the JSON a worker gives it, as in
/// docs/design.md "Step handlers", for example one copied from an attempt's `input` in
/// `baton session show`). Throws a `BatonTestingError` when the document cannot be read.
public func runStep(_ handler: any StepHandler, document: String, timeout: Duration = .seconds(60)) async throws -> HandlerOutcome {
    await runStep(handler, try StepContext(document: document), timeout: timeout)
}
