import BatonCore
import Foundation

/// How a worker behaves. Every field has an environment variable and a CLI option (see the
/// configuration table in docs/reference.md).
public struct WorkerConfiguration: Sendable {
    /// Names this process in the attempt history and in `pg_stat_activity`.
    public var workerID: String
    /// Kinds to serve; nil serves every kind the handlers cover.
    public var kinds: [String]?
    /// Steps run at the same time (`WORKER_BATCH_SIZE`).
    public var batchSize: Int
    /// Claim/commit connections (`WORKER_CONNECTIONS`): each one claims and commits its share
    /// of the batch on its own, so the database works on several commits at once. Never more
    /// than `batchSize`.
    public var connections: Int
    /// A step running longer is stopped and counts as a failed attempt (`WORKER_TIMEOUT`, ms).
    public var stepTimeoutMs: Int
    /// The safety poll (`WORKER_POLL_INTERVAL`, ms); notifications do the real work.
    public var pollIntervalMs: Int
    /// How often the rescuer looks for steps whose worker died (`BATON_RESCUE_INTERVAL`, ms).
    public var rescueIntervalMs: Int
    /// How often the worker tells the database it is alive (`WORKER_HEARTBEAT_INTERVAL`, ms).
    public var heartbeatIntervalMs: Int
    /// A step whose session lock is free is rescued once its worker has been silent this long
    /// (`BATON_RESCUE_AFTER`, ms): shorter than a reconnect would take is unsafe, as the worker
    /// may still be running the step and about to commit it.
    public var rescueAfterMs: Int
    /// A worker silent this long is presumed dead even though its connection still holds the
    /// session lock (a half-open connection); its backend is ended (`BATON_WORKER_STALE_AFTER`, ms).
    public var staleAfterMs: Int
    /// On shutdown, how long running steps may finish before they are given back (`BATON_SHUTDOWN_GRACE`, ms).
    public var shutdownGraceMs: Int
    /// Retries and backoff (`MAX_RETRIES`, `RETRY_DELAY`).
    public var retry: RetryPolicy
    /// Quiet time after which the listener pings its connection (ms).
    public var listenerPingMs: Int
    /// How long finished sessions are kept (`BATON_RETENTION`).
    public var retention: RetentionPolicy
    /// How often the worker looks for sessions past their retention (`BATON_PRUNE_INTERVAL`, ms).
    public var pruneIntervalMs: Int
    /// Sessions deleted per transaction by the pruner.
    public var pruneBatchSize: Int

    public init(
        workerID: String = WorkerConfiguration.defaultWorkerID(),
        kinds: [String]? = nil,
        batchSize: Int = 4,
        connections: Int = 1,
        stepTimeoutMs: Int = 300_000,
        pollIntervalMs: Int = 30_000,
        rescueIntervalMs: Int = 1_000,
        heartbeatIntervalMs: Int = 1_000,
        rescueAfterMs: Int = 5_000,
        staleAfterMs: Int = 60_000,
        shutdownGraceMs: Int = 30_000,
        retry: RetryPolicy = RetryPolicy(),
        listenerPingMs: Int = 10_000,
        retention: RetentionPolicy = .standard,
        pruneIntervalMs: Int = 60_000,
        pruneBatchSize: Int = 500
    ) {
        self.workerID = workerID
        self.kinds = kinds
        self.batchSize = max(1, batchSize)
        self.connections = min(max(1, connections), self.batchSize)
        self.stepTimeoutMs = max(1, stepTimeoutMs)
        self.pollIntervalMs = max(10, pollIntervalMs)
        self.rescueIntervalMs = max(10, rescueIntervalMs)
        self.heartbeatIntervalMs = max(10, heartbeatIntervalMs)
        // Two missed heartbeats at least, or live workers would be rescued.
        self.rescueAfterMs = max(rescueAfterMs, 2 * self.heartbeatIntervalMs)
        self.staleAfterMs = max(staleAfterMs, self.rescueAfterMs)
        self.shutdownGraceMs = max(0, shutdownGraceMs)
        self.retry = retry
        self.listenerPingMs = max(100, listenerPingMs)
        self.retention = retention
        self.pruneIntervalMs = max(10, pruneIntervalMs)
        self.pruneBatchSize = max(1, pruneBatchSize)
    }

    /// The configuration of each claim/commit connection: its share of the batch, and its own
    /// worker id (`<id>/<n>` when there are several), since heartbeats, session locks and the
    /// rescuer's view of liveness belong to one connection.
    public var lanes: [WorkerConfiguration] {
        guard connections > 1 else { return [self] }
        return (0..<connections).map { index in
            var lane = self
            lane.workerID = "\(workerID)/\(index + 1)"
            lane.batchSize = batchSize / connections + (index < batchSize % connections ? 1 : 0)
            lane.connections = 1
            return lane
        }
    }

    /// host:pid:random, unique per process start.
    public static func defaultWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(host):\(getpid()):\(suffix)"
    }
}
