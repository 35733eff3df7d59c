import Logging

/// Every `intervalMs`, gives back steps whose worker died: its session lock is free and it has
/// been silent for `rescueAfterMs`, or silent for `staleAfterMs` whatever its lock says (see
/// sql/functions/rescue_tasks.sql). `baton.rescue_tasks` lets one process at a time do it. The
/// rescued steps are queued again, which notifies the workers.
struct Rescuer: Sendable {
    var pool: ConnectionPool
    var intervalMs: Int
    var rescueAfterMs: Int
    var staleAfterMs: Int
    var metrics: WorkerMetrics
    var logger: Logger

    func run() async {
        while !Task.isCancelled {
            do {
                let rows = try await pool.query(WorkerQueries.rescue, [String(rescueAfterMs), String(staleAfterMs)]).records
                var rescued = 0
                for row in rows {
                    let metadata: Logger.Metadata = [
                        "task": "\(row["task_id"] ?? "?")", "session": "\(row["session_id"] ?? "?")",
                        "from_worker": "\(row["worker_id"] ?? "?")", "attempt": "\(row["attempt"] ?? "?")",
                        "now": "\(row["outcome"] ?? "?")", "reason": "\(row["reason"] ?? "?")",
                    ]
                    if row["reason"] == "deadline" {
                        logger.warning("a handed-off step (202) was not finished before its deadline", metadata: metadata)
                    } else {
                        rescued += 1
                        logger.warning("rescued a step whose worker went away", metadata: metadata)
                    }
                }
                metrics.stepsRescued(rescued)
            } catch {
                logger.debug("rescue pass failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(intervalMs))
        }
    }
}
