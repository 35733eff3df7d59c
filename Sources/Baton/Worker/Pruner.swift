import BatonCore
import Logging

/// Retention (`BATON_RETENTION`): every `intervalMs`, deletes finished sessions past their
/// kind's retention, with their tasks and attempts, in batches of `batchSize`, each batch its
/// own short transaction, so that no lock is held long and the steps' commits never wait
/// behind a big delete; between batches it rests as long as the batch took. `baton.prune_sessions`
/// lets one process at a time do it.
struct Pruner: Sendable {
    var pool: ConnectionPool
    var policy: RetentionPolicy
    var intervalMs: Int
    var batchSize: Int
    var logger: Logger

    func run() async {
        guard !policy.keepsEverything else { return }
        while (try? await Task.sleep(for: .milliseconds(intervalMs))) != nil {
            await pass()
        }
    }

    /// Batches until one comes back short (nothing more is due) or another process has the
    /// turn; returns how many sessions went.
    @discardableResult
    func pass() async -> Int {
        var total = 0
        do {
            total = try await pool.pruneAll(policy, batchSize: batchSize).pruned
        } catch is CancellationError {
            return total
        } catch {
            logger.warning("retention: a prune batch failed; the next pass tries again", metadata: ["error": "\(error)"])
        }
        if total > 0 {
            logger.info("retention: deleted finished sessions past their retention", metadata: ["sessions": "\(total)"])
        }
        return total
    }
}
