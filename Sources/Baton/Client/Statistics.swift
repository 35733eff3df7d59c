import Foundation

/// What `baton stats` and `GET /api/stats` show: per kind, sessions by status, step rates,
/// failure rate, step durations, ready steps and sessions at the gate; the watched tables and
/// the schedules. Made by `baton.stats()` in one round trip (sql/functions/stats.sql); it reads no
/// finished history, so it stays fast however long that is.
public struct Statistics: Sendable, Codable, Hashable {
    /// Statistics of one kind of session.
    public struct Kind: Sendable, Codable, Hashable {
        public var kind: String
        /// Sessions by status. COMPLETED and CANCELLED are estimates when `finishedEstimated`.
        public var sessions: [String: Int]
        /// Steps that succeeded per minute, over the last 1, 5 and 15 minutes.
        public var stepsPerMinute: Rates
        /// Failed attempts among finished attempts of the last 15 minutes (nil: none finished).
        public var failureRate: Double?
        /// How long attempts of the last 15 minutes ran.
        public var stepSeconds: Percentiles
        /// Steps whose time has come and that wait for a worker.
        public var readySteps: Int
        /// How long the oldest of them has waited.
        public var oldestReadySeconds: Double?
        /// Sessions waiting at the gate for a person (AWAITING_PROCEED).
        public var atGate: Int
    }

    /// Per-minute rates over three windows.
    public struct Rates: Sendable, Codable, Hashable {
        public var lastMinute: Double
        public var last5Minutes: Double
        public var last15Minutes: Double
        enum CodingKeys: String, CodingKey {
            case lastMinute = "1m", last5Minutes = "5m", last15Minutes = "15m"
        }
    }

    /// Duration percentiles in seconds (nil: no attempt in the window).
    public struct Percentiles: Sendable, Codable, Hashable {
        public var p50: Double?
        public var p95: Double?
    }

    /// A watched table, with how many of its keys have a session queued.
    public struct WatchSummary: Sendable, Codable, Hashable {
        public var table: String
        public var kind: String
        public var keyColumn: String
        public var columns: [String]?
        public var phases: Int
        public var queued: Int
    }

    /// A schedule with its last and next run.
    public struct ScheduleSummary: Sendable, Codable, Hashable {
        public var name: String
        public var kind: String
        public var cron: String?
        public var timeZone: String
        public var everySeconds: Double?
        public var nextRunAt: String?
        public var lastRunAt: String?
        /// started, skipped or manual.
        public var lastRun: String?
        public var lastSession: String?
        /// The status of the last run's session: its outcome once it finished.
        public var lastSessionStatus: String?
    }

    /// When the statistics were read (the database's clock).
    public var at: String
    /// True when the table is large and COMPLETED/CANCELLED counts come from the planner's
    /// statistics (refreshed by autovacuum) instead of a count.
    public var finishedEstimated: Bool
    public var kinds: [Kind]
    public var watches: [WatchSummary]
    public var schedules: [ScheduleSummary]
}

extension BatonClient {
    /// Statistics per kind, watches and schedules (one round trip; see `Statistics`).
    public func statistics() async throws -> Statistics {
        let text = try await run(StatsQueries.stats).first?.string("stats") ?? "{}"
        return try JSONDecoder().decode(Statistics.self, from: Data(text.utf8))
    }
}
