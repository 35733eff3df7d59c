/// When a failed step runs again: exponential backoff from a base delay, doubled per attempt,
/// capped, with "equal jitter" (half the delay fixed, half random) so that steps failing
/// together do not retry together. Pure: the random source is a parameter.
///
/// `baton.retry_delay_ms` in PostgreSQL computes the same delay (for `baton.fail_task`).
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after the first attempt: a step runs at most `maxRetries + 1` times.
    public var maxRetries: Int
    /// Delay before the first retry, in milliseconds.
    public var baseDelayMs: Int
    /// No delay is longer than this, in milliseconds.
    public var maxDelayMs: Int

    public init(maxRetries: Int = 3, baseDelayMs: Int = 1000, maxDelayMs: Int = 300_000) {
        self.maxRetries = max(0, maxRetries)
        self.baseDelayMs = max(0, baseDelayMs)
        self.maxDelayMs = max(0, maxDelayMs)
    }

    /// Attempts a step gets before its session FAILS.
    public var maxAttempts: Int { maxRetries + 1 }

    /// The delay before the next attempt after attempt `attempt` (1-based, counted within the
    /// current retry budget) failed, or nil when no attempt is left. `jitter` is in [0, 1).
    public func delayMs(afterAttempt attempt: Int, jitter: Double) -> Int? {
        guard attempt < maxAttempts else { return nil }
        return Self.delayMs(attempt: attempt, baseMs: baseDelayMs, capMs: maxDelayMs, jitter: jitter)
    }

    /// The backoff formula alone: min(cap, base * 2^(attempt-1)) / 2 + jitter share of the other half.
    public static func delayMs(attempt: Int, baseMs: Int, capMs: Int, jitter: Double) -> Int {
        let exponent = min(max(attempt, 1) - 1, 62)
        let (product, overflow) = baseMs.multipliedReportingOverflow(by: 1 << exponent)
        let full = overflow ? capMs : min(capMs, product)
        let half = full / 2
        let j = min(max(jitter, 0), 0.999_999_999)
        return half + Int((j * Double(half + 1)).rounded(.down))
    }

    /// The same delay for the same attempt and jitter: deterministic under an injected source.
    public func delayMs<R: RandomNumberGenerator>(afterAttempt attempt: Int, using rng: inout R) -> Int? {
        delayMs(afterAttempt: attempt, jitter: Double.random(in: 0..<1, using: &rng))
    }
}

/// Capped exponential backoff for reconnecting: 100 ms, 200 ms, … up to `cap`. The default
/// cap (2 s) keeps a worker's return after a database restart well inside the rescuer's
/// grace (`BATON_RESCUE_AFTER`, 5 s), so its finished steps are committed, not run again.
public struct ReconnectBackoff: Sendable, Hashable {
    public var initialMs: Int
    public var capMs: Int
    public private(set) var failures = 0

    public init(initialMs: Int = 100, capMs: Int = 2_000) {
        self.initialMs = initialMs
        self.capMs = capMs
    }

    /// The wait before the next try; each call doubles the next one up to the cap.
    public mutating func next() -> Int {
        defer { failures += 1 }
        let shift = min(failures, 20)
        return min(capMs, initialMs << shift)
    }

    public mutating func reset() { failures = 0 }
}
