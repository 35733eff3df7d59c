import Logging

/// Every `intervalMs`, gives back steps whose worker died (its connection, and so its session
/// lock, is gone). `baton.rescue_tasks` lets one process at a time do it. The rescued steps
/// are queued again, which notifies the workers.
struct Rescuer: Sendable {
    var pool: ConnectionPool
    var intervalMs: Int
    var metrics: WorkerMetrics
    var logger: Logger

    func run() async {
        while !Task.isCancelled {
            do {
                let rescued = try await pool.query(WorkerQueries.rescue)
                metrics.stepsRescued(rescued.records.count)
                for row in rescued.records {
                    logger.warning("rescued a step whose worker went away", metadata: [
                        "task": "\(row["task_id"] ?? "?")", "session": "\(row["session_id"] ?? "?")",
                        "from_worker": "\(row["worker_id"] ?? "?")", "attempt": "\(row["attempt"] ?? "?")",
                        "now": "\(row["outcome"] ?? "?")",
                    ])
                }
            } catch {
                logger.debug("rescue pass failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(intervalMs))
        }
    }
}
