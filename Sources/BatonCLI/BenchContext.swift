import Baton
import Foundation
import Synchronization

/// What every bench measurement needs: the database, how to start worker processes, the probe's
/// receiver, and settling the database before a measurement.
struct BenchContext: Sendable {
    /// Kinds of the bench's own sessions (all start with "baton-bench"; a run deletes them first).
    static let kind = "baton-bench"
    static let backlogKind = "baton-bench-backlog"
    static let kindPattern = "baton-bench%"

    let pool: ConnectionPool
    let direct: ConnectionSettings
    /// For the worker processes' environment (never printed).
    let databaseURL: String
    let directURL: String?
    let executable: String
    let probe: ProbeReceiver
    /// Where the worker processes' logs go.
    let folder: URL
    let batchSize: Int
    let connections: Int
    /// False: no settling (to show what it changes; `--no-settle`).
    var settles: Bool
    let notes: BenchNotes

    /// A progress line on stderr (stdout carries the report).
    func progress(_ line: String) {
        FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
    }

    /// Starts `count` `baton worker` processes for `kinds` with `handler`; `probe` adds the
    /// probe's variables (PEERS_N and PEERS_TICK when not 0).
    func startWorkers(_ count: Int, kinds: [String], handler: String = "builtin:probe",
                      expected: Int = 0, tickEvery: Int = 0) async throws -> [WorkerProcess] {
        var environment = [
            "DATABASE_URL": databaseURL, "BATON_HANDLER": handler, "BATON_KINDS": kinds.joined(separator: ","),
            "WORKER_BATCH_SIZE": String(batchSize), "WORKER_CONNECTIONS": String(connections),
            // The prune section runs its own pruner; the workers' would race it for the turn.
            "BATON_RETENTION": "off", "BATON_LOG_LEVEL": "warning", "PEERS_SOCK": probe.path,
        ]
        if let directURL { environment["DIRECT_URL"] = directURL }
        if expected > 0 { environment["PEERS_N"] = String(expected) }
        if tickEvery > 0 { environment["PEERS_TICK"] = String(tickEvery) }
        var workers: [WorkerProcess] = []
        for _ in 0..<count {
            let log = folder.appending(path: "worker-\(UUID().uuidString.prefix(8)).log").path
            workers.append(try await WorkerProcess.start(executable: executable, environment: environment, logPath: log))
        }
        return workers
    }

    /// Fails with the worker's own last words when one of `workers` has exited.
    func requireRunning(_ workers: [WorkerProcess]) throws {
        for worker in workers {
            if let status = worker.exitStatus {
                throw CLIError.usage("worker process \(worker.pid) exited (status \(status)) during the bench:\n\(worker.logTail())")
            }
        }
    }

    /// Deletes every session of the bench's kinds (with their tasks and attempts).
    func deleteBenchSessions() async throws {
        try await pool.query("DELETE FROM baton.sessions WHERE kind LIKE $1", [Self.kindPattern])
    }

    /// The same state before every measurement: no autovacuum worker running, no dead rows and
    /// fresh statistics on Baton's tables, then a CHECKPOINT so no checkpoint's writes (nor the
    /// full-page images that follow one) land on some runs and not on others.
    func settle() async throws {
        guard settles else { return }
        try await awaitNoAutovacuum()
        try await pool.query("VACUUM (ANALYZE) baton.sessions, baton.tasks, baton.attempts, baton.parked_sessions, baton.workers")
        await checkpoint()
    }

    /// After a bulk create: statistics that know the new rows (the claim's plan depends on them),
    /// and the create's dirty pages written out before the clock starts.
    func settleAfterCreate() async throws {
        guard settles else { return }
        try await pool.query("ANALYZE baton.sessions, baton.tasks")
        await checkpoint()
    }

    private func checkpoint() async {
        do {
            try await pool.query("CHECKPOINT")
        } catch {
            notes.add("CHECKPOINT failed (it needs a superuser or pg_checkpoint): \(error)")
        }
    }

    /// Waits (at most 5 minutes) until no autovacuum worker runs in this database: one running
    /// during a measurement competes with it for the machine and for Baton's tables.
    func awaitNoAutovacuum() async throws {
        let deadline = ContinuousClock.now + .seconds(300)
        while try await pool.query("""
            SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = current_database()
            """).first?.int("n") ?? 0 > 0 {
            guard ContinuousClock.now < deadline else {
                notes.add("an autovacuum worker was still running after 5 minutes; measured anyway")
                return
            }
            try await Task.sleep(for: .milliseconds(200))  // allowed: PostgreSQL announces no end of autovacuum
        }
    }

    /// Checkpoints and autovacuum/autoanalyze runs on Baton's tables so far, to tell which
    /// measurements had one.
    func serverCounters() async throws -> (checkpoints: Int, autovacuums: Int) {
        let version = try await pool.query("SELECT current_setting('server_version_num')::int AS v").first?.int("v") ?? 0
        let checkpoints = version >= 170_000
            ? "SELECT num_timed + num_requested AS n FROM pg_stat_checkpointer"
            : "SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter"
        let done = try await pool.query(checkpoints).first?.int("n") ?? 0
        let vacuums = try await pool.query("""
            SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) AS n FROM pg_stat_all_tables WHERE schemaname = 'baton'
            """).first?.int("n") ?? 0
        return (done, vacuums)
    }

    /// Creates `count` one-phase sessions of `kind` in calls of at most `chunk`; returns the seconds.
    func createSessions(_ count: Int, kind: String, chunk: Int = 100_000) async throws -> Double {
        let start = ContinuousClock.now
        var made = 0
        while made < count {
            let now = min(chunk, count - made)
            try await pool.query("""
                SELECT count(*) FROM baton.create_sessions(1, array_fill('{}'::jsonb, ARRAY[$1::int]), $2)
                """, [String(now), kind])
            made += now
        }
        return (ContinuousClock.now - start).seconds
    }
}

/// Things the bench could not do as intended, for the report (each said once).
final class BenchNotes: Sendable {
    private let notes = Mutex<[String]>([])

    func add(_ note: String) {
        notes.withLock { if !$0.contains(note) { $0.append(note) } }
    }

    var all: [String] { notes.withLock { $0 } }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
