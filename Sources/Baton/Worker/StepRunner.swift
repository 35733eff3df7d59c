import Synchronization
import Tracing

/// Runs one claimed step through its handler under the step timeout, and turns what happened
/// into an outcome for the commit: a result, or a failure with the retry policy's verdict.
package struct StepRunner: Sendable {
    var handlers: HandlerRegistry
    var timeoutMs: Int
    var policy: RetryPolicy
    /// Where the step spans go; nil: no tracer, no spans.
    var tracer: (any Tracer)? = BatonSpans.activeTracer()

    /// Runs the step inside a `baton.step` span (see `BatonSpans`), which the handler inherits.
    func run(_ claimed: ClaimedStep) async -> StepOutcome {
        guard let tracer else { return await runHandler(claimed) }
        return await traced(tracer, claimed)
    }

    private func traced<T: Tracer>(_ tracer: T, _ claimed: ClaimedStep) async -> StepOutcome {
        await tracer.withSpan(BatonSpans.step, ofKind: .consumer) { span in
            span.setStepAttributes(claimed.context)
            let outcome = await runHandler(claimed)
            span.record(outcome.result)
            return outcome
        }
    }

    private func runHandler(_ claimed: ClaimedStep) async -> StepOutcome {
        let startedAt = Timestamp.now()
        let clockStart = ContinuousClock.now
        let context = claimed.context
        let result: StepOutcome.Result
        if let handler = handlers.handler(for: context.kind) {
            result = await attempt(handler, claimed)
        } else {
            result = .failed(message: "no handler for kind '\(context.kind)'; map it in BATON_HANDLER", retryDelayMs: nil)
        }
        return StepOutcome(
            taskId: context.taskId, sessionId: context.sessionId, kind: context.kind, step: context.step,
            attempt: context.attempt,
            generation: claimed.generation, result: result, startedAt: startedAt,
            finishedAt: Timestamp.now(), inputJSON: context.documentJSON,
            durationNanoseconds: (ContinuousClock.now - clockStart).nanoseconds)
    }

    private func attempt(_ handler: any StepHandler, _ claimed: ClaimedStep) async -> StepOutcome.Result {
        switch await Self.run(handler, claimed.context, timeoutMs: timeoutMs) {
        case .succeeded(let json):
            return .succeeded(json: json)
        case .deferred(let reason):
            return .deferred(reason: reason)
        case .failed(let message, let permanent):
            return failure(message, claimed, permanent: permanent)
        case .stopped where Task.isCancelled:
            return .failed(message: "the worker stopped the step: this attempt is no longer current "
                           + "(rescued while the worker could not reach the database, cancelled, or finished elsewhere)",
                           retryDelayMs: nil)
        case .stopped:
            return failure("the step timed out after \(timeoutMs) ms (WORKER_TIMEOUT) and was stopped", claimed, permanent: false)
        }
    }

    private func failure(_ message: String, _ claimed: ClaimedStep, permanent: Bool) -> StepOutcome.Result {
        let delay = permanent ? nil : policy.delayMs(afterAttempt: claimed.budgetAttempt, jitter: Double.random(in: 0..<1))
        let note = permanent ? " (permanent)" : delay == nil ? " (no retries left)" : ""
        return .failed(message: message + note, retryDelayMs: delay)
    }
}

extension Span {
    /// What became of the attempt; a failure marks the span as an error with its message.
    fileprivate func record(_ result: StepOutcome.Result) {
        guard isRecording else { return }
        switch result {
        case .succeeded:
            attributes[BatonSpans.Attribute.outcome] = "succeeded"
        case .failed(let message, _):
            attributes[BatonSpans.Attribute.outcome] = "failed"
            setStatus(SpanStatus(code: .error, message: message))
        case .deferred:
            attributes[BatonSpans.Attribute.outcome] = "deferred"
        }
    }
}

/// What one handler run came to, before the retry policy has its say.
package enum HandlerRun: Sendable, Equatable {
    /// The handler returned storable JSON.
    case succeeded(json: String)
    /// A `StepFailure` (with its `permanent`), any other error, or text that is not storable JSON.
    case failed(message: String, permanent: Bool)
    /// The handler threw `StepDeferred`: the step continues elsewhere.
    case deferred(reason: String)
    /// The deadline passed or the caller was cancelled; the handler was cancelled.
    case stopped
}

extension StepRunner {
    /// Runs `handler` on `context` under `timeoutMs` and sorts what it did; the worker's steps
    /// and BatonTesting's `runStep` both go through here.
    package static func run(_ handler: any StepHandler, _ context: StepContext, timeoutMs: Int) async -> HandlerRun {
        switch await race(timeoutMs: timeoutMs, { try await handler.run(context) }) {
        case .success(let json):
            do {
                try JSONText.validate(json)
                return .succeeded(json: json)
            } catch {
                return .failed(message: "the handler returned text that is not storable JSON (\(error))", permanent: false)
            }
        case .failure(let deferral as StepDeferred):
            return .deferred(reason: deferral.reason)
        case .failure(let error as StepFailure):
            return .failed(message: error.message, permanent: error.permanent)
        case .failure(let error):
            return .failed(message: "the handler threw: \(error)", permanent: false)
        case nil:
            return .stopped
        }
    }

    /// The handler's result, or nil when `timeoutMs` pass first or the caller is cancelled.
    /// The handler is cancelled then (a command handler kills its process group), and the
    /// race returns at once even if a Swift handler ignores cancellation: a task group would
    /// wait for it, holding the worker slot and shutdown hostage. Hence an unstructured task
    /// for the handler, and the deadline in the shared `StepDeadlines` (not a sleep per step).
    static func race(timeoutMs: Int, deadlines: StepDeadlines = .shared,
                     _ body: @escaping @Sendable () async throws -> String) async -> Result<String, any Error>? {
        let handler = Task { try await body() }
        let outcome = RaceOutcome<Result<String, any Error>?>()
        let deadline = deadlines.add(afterMs: timeoutMs) { outcome.offer(nil) }
        Task {
            let result = await Result(catching: { try await handler.value })
            outcome.offer(result)
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { outcome.await($0) }
        } onCancel: {
            outcome.offer(nil)
        }
        deadlines.remove(deadline)
        handler.cancel()
        return result
    }
}

/// The first value offered, handed to whoever waits for it, whether the offer comes before or
/// after the wait begins; later offers are dropped.
final class RaceOutcome<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, Never>)
        case offered(Value)
        case done
    }

    private let state = Mutex<State>(.empty)

    func offer(_ value: Value) {
        let waiter: CheckedContinuation<Value, Never>? = state.withLock { state in
            switch state {
            case .empty:
                state = .offered(value)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .offered, .done:
                return nil
            }
        }
        waiter?.resume(returning: value)
    }

    /// Resumes `continuation` with the first value offered (at once if it came already).
    func await(_ continuation: CheckedContinuation<Value, Never>) {
        let ready: Value? = state.withLock { state in
            switch state {
            case .offered(let value):
                state = .done
                return value
            case .empty:
                state = .waiting(continuation)
                return nil
            case .waiting, .done:
                preconditionFailure("RaceOutcome is awaited once")
            }
        }
        if let ready { continuation.resume(returning: ready) }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
