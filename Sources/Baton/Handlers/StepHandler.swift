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
