/// Runs one step: gets the handler document (see `StepContext.documentJSON`) and returns the
/// step's result as JSON text. Throwing fails the attempt: a `StepFailure` with
/// `permanent: true` fails the session at once, anything else is retried by the policy.
/// Handlers must honour task cancellation: the worker cancels a step past `WORKER_TIMEOUT`.
public protocol StepHandler: Sendable {
    func run(_ step: StepContext) async throws -> String
}

/// A failed attempt with a message for the attempt history.
public struct StepFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// True: retrying cannot help (the session FAILS now).
    public var permanent: Bool

    public init(_ message: String, permanent: Bool = false) {
        self.message = message
        self.permanent = permanent
    }

    public var description: String { message }
}

/// A handler made of a closure, for library users.
public struct ClosureHandler: StepHandler {
    private let body: @Sendable (StepContext) async throws -> String

    public init(_ body: @escaping @Sendable (StepContext) async throws -> String) {
        self.body = body
    }

    public func run(_ step: StepContext) async throws -> String { try await body(step) }
}

/// Thrown by a handler whose step continues elsewhere (an HTTP handler answered 202): the step
/// stays RUNNING without holding a worker slot until `baton.complete_task` / `baton.fail_task`
/// (or `POST /api/tasks/{id}/complete|fail`) finishes it. Past `WORKER_TIMEOUT` from its start
/// the rescuer fails the attempt.
public struct StepDeferred: Error, Sendable, CustomStringConvertible {
    /// Why, for the log (for example "202 Accepted from http://…").
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { "step continues elsewhere: \(reason)" }
}
