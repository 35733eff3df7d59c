import BatonCore
import Testing

/// A seeded generator, so "random" jitter repeats exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct RetryPolicyTests {
    @Test func delaysDoubleWithinTheirJitterBand() {
        let policy = RetryPolicy(maxRetries: 5, baseDelayMs: 1000, maxDelayMs: 300_000)
        for (attempt, full) in [(1, 1000), (2, 2000), (3, 4000), (4, 8000), (5, 16000)] {
            #expect(policy.delayMs(afterAttempt: attempt, jitter: 0) == full / 2)
            #expect(policy.delayMs(afterAttempt: attempt, jitter: 0.999_999) == full)
            for jitter in stride(from: 0.0, to: 1.0, by: 0.05) {
                let d = policy.delayMs(afterAttempt: attempt, jitter: jitter)!
                #expect(d >= full / 2 && d <= full)
            }
        }
    }

    @Test func noDelayOnceRetriesAreSpent() {
        let policy = RetryPolicy(maxRetries: 3)
        #expect(policy.maxAttempts == 4)
        #expect(policy.delayMs(afterAttempt: 3, jitter: 0.5) != nil)
        #expect(policy.delayMs(afterAttempt: 4, jitter: 0.5) == nil)
        #expect(RetryPolicy(maxRetries: 0).delayMs(afterAttempt: 1, jitter: 0.5) == nil)
    }

    @Test func theCapHoldsEvenForHugeAttempts() {
        let policy = RetryPolicy(maxRetries: 10_000, baseDelayMs: 1000, maxDelayMs: 60_000)
        for attempt in [7, 20, 63, 64, 500, 9_999] {
            let d = policy.delayMs(afterAttempt: attempt, jitter: 0.999)!
            #expect(d <= 60_000 && d >= 30_000, "attempt \(attempt): \(d)")
        }
    }

    @Test func anInjectedSourceMakesItDeterministic() {
        let policy = RetryPolicy(maxRetries: 8, baseDelayMs: 250)
        var a = SplitMix64(state: 42), b = SplitMix64(state: 42), c = SplitMix64(state: 7)
        let first = (1...8).map { policy.delayMs(afterAttempt: $0, using: &a) }
        let second = (1...8).map { policy.delayMs(afterAttempt: $0, using: &b) }
        let other = (1...8).map { policy.delayMs(afterAttempt: $0, using: &c) }
        #expect(first == second)
        #expect(first != other, "another seed gives other jitter")
    }

    @Test func reconnectBackoffDoublesToItsCapAndResets() {
        var backoff = ReconnectBackoff(initialMs: 100, capMs: 1000)
        #expect((0..<6).map { _ in backoff.next() } == [100, 200, 400, 800, 1000, 1000])
        backoff.reset()
        #expect(backoff.next() == 100)
    }
}
