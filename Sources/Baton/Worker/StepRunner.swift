import Synchronization

/// Runs one claimed step through its handler under the step timeout, and turns what happened
/// into an outcome for the commit: a result, or a failure with the retry policy's verdict.
struct StepRunner: Sendable {
    var handlers: HandlerRegistry
    var timeoutMs: Int
    var policy: RetryPolicy

    func run(_ claimed: ClaimedStep) async -> StepOutcome {
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
        let context = claimed.context
        let timeout = timeoutMs
        let raced = await Self.race(timeoutMs: timeout) { try await handler.run(context) }
        switch raced {
        case .success(let json):
            do {
                try JSONText.validate(json)
                return .succeeded(json: json)
            } catch {
                return failure("the handler returned text that is not storable JSON (\(error))", claimed, permanent: false)
            }
        case .failure(let deferral as StepDeferred):
            return .deferred(reason: deferral.reason)
        case .failure(let error as StepFailure):
            return failure(error.message, claimed, permanent: error.permanent)
        case .failure(let error):
            return failure("the handler threw: \(error)", claimed, permanent: false)
        case nil where Task.isCancelled:
            return .failed(message: "the worker stopped the step: this attempt is no longer current "
                           + "(rescued while the worker could not reach the database, cancelled, or finished elsewhere)",
                           retryDelayMs: nil)
        case nil:
            return failure("the step timed out after \(timeout) ms (WORKER_TIMEOUT) and was stopped", claimed, permanent: false)
        }
    }

    private func failure(_ message: String, _ claimed: ClaimedStep, permanent: Bool) -> StepOutcome.Result {
        let delay = permanent ? nil : policy.delayMs(afterAttempt: claimed.budgetAttempt, jitter: Double.random(in: 0..<1))
        let note = permanent ? " (permanent)" : delay == nil ? " (no retries left)" : ""
        return .failed(message: message + note, retryDelayMs: delay)
    }
}

extension StepRunner {
    /// The handler's result, or nil when `timeoutMs` pass first or the caller is cancelled.
    /// The handler is cancelled then (a command handler kills its process group), and the
    /// race returns at once even if a Swift handler ignores cancellation: a task group would
    /// wait for it, holding the worker slot and shutdown hostage. Hence unstructured tasks,
    /// each of which ends when the handler returns or the timer fires.
    static func race(timeoutMs: Int, _ body: @escaping @Sendable () async throws -> String) async -> Result<String, any Error>? {
        let handler = Task { try await body() }
        let timer = Task { try await Task.sleep(for: .milliseconds(timeoutMs)) }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<String, any Error>?, Never>) in
                let once = ResumeOnce(continuation)
                Task { once.resume(returning: await Result(catching: { try await handler.value })) }
                Task {
                    _ = try? await timer.value
                    once.resume(returning: nil)
                }
            }
        } onCancel: {
            timer.cancel()
        }
        handler.cancel()
        timer.cancel()
        return result
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Resumes a continuation with the first value offered; later offers are dropped.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(returning value: Value) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
