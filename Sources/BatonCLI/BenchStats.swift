import Baton
import Foundation

/// `baton bench --stats-sessions N`: how long `baton stats` takes with N finished sessions (with
/// their tasks and attempts) in the tables. The history is written straight into the tables
/// (triggers off, so it needs a superuser, as on a scratch database), spread over 14 days, with
/// a busy last 15 minutes; it is deleted afterwards.
struct StatsBench {
    static let kind = "baton-bench-history"
    let pool: ConnectionPool
    let sessions: Int
    /// Sessions (3 attempts each) finished within the last 15 minutes, added for the second timing.
    let recentSessions: Int
    let samples: Int

    struct Report: Encodable {
        var finishedSessions: Int
        var tasks: Int
        var attempts: Int
        var attemptsInLast15Minutes: Int
        var loadSeconds: Double
        /// `SELECT baton.stats()` as `baton stats` runs it, on a settled database.
        var statsMs: Percentiles
        var finishedEstimated: Bool
        /// Then with `recentSessions` more finished in the last 15 minutes (a busy window).
        var busyAttemptsInLast15Minutes: Int
        var busyStatsMs: Percentiles
    }

    func run() async throws -> Report {
        let loadStart = ContinuousClock.now
        try await write(sessions, prefix: "h", over: "14 days")
        let loaded = ContinuousClock.now - loadStart
        let counts = try await pool.query("""
            SELECT (SELECT count(*) FROM baton.tasks WHERE kind LIKE $1 || '-%') AS tasks,
                   (SELECT count(*) FROM baton.attempts a WHERE a.kind LIKE $1 || '-%') AS attempts,
                   (SELECT count(*) FROM baton.attempts a WHERE a.finished_at > now() - interval '15 minutes') AS recent
            """, [Self.kind]).first
        let (times, estimated) = try await timeStats()
        try await write(recentSessions, prefix: "r", over: "15 minutes")
        let busy = try await pool.query(
            "SELECT count(*) AS n FROM baton.attempts a WHERE a.finished_at > now() - interval '15 minutes'").first
        let (busyTimes, _) = try await timeStats()
        try await pool.query("DELETE FROM baton.sessions WHERE kind LIKE $1 || '-%'", [Self.kind])
        return Report(
            finishedSessions: sessions, tasks: try counts?.int("tasks") ?? 0, attempts: try counts?.int("attempts") ?? 0,
            attemptsInLast15Minutes: try counts?.int("recent") ?? 0,
            loadSeconds: loaded.inSeconds,
            statsMs: Percentiles(times), finishedEstimated: estimated,
            busyAttemptsInLast15Minutes: try busy?.int("n") ?? 0, busyStatsMs: Percentiles(busyTimes))
    }

    /// Times `SELECT baton.stats()` `samples` times; says whether finished counts were estimated.
    func timeStats() async throws -> ([Double], Bool) {
        var times: [Double] = []
        var estimated = false
        for _ in 0..<max(1, samples) {
            let start = ContinuousClock.now
            let text = try await pool.query("SELECT baton.stats()::text AS s").first?["s"] ?? "{}"
            let elapsed = ContinuousClock.now - start
            times.append(elapsed.inSeconds * 1000)
            estimated = text.contains("\"finishedEstimated\": true")
        }
        return (times, estimated)
    }

    /// Writes `count` finished sessions (with their 3 tasks and attempts) that finished over the
    /// last `span`, straight into the tables (triggers off), then settles the database.
    func write(_ count: Int, prefix: String, over span: String, ago: String = "0 seconds", kind: String = StatsBench.kind) async throws {
        guard count > 0 else { return }
        try await pool.withConnection { connection in
            try await connection.query("BEGIN")
            do {
                try await connection.query("SET LOCAL session_replication_role = replica")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw CLIError.usage("writing the history needs a superuser (triggers are switched off while it is written); run it on a scratch database")
            }
            // 97% COMPLETED, 2% CANCELLED, 1% FAILED, over 3 kinds; 3 steps each.
            try await connection.query("""
                INSERT INTO baton.sessions (id, kind, status, total_phases, phase, step, created_at, updated_at)
                SELECT $3 || '-' || g, $2 || '-' || (g % 3),
                       CASE WHEN g % 100 = 0 THEN 'FAILED' WHEN g % 50 = 1 THEN 'CANCELLED' ELSE 'COMPLETED' END,
                       1, 1, CASE WHEN g % 100 = 0 THEN 'EXECUTE' WHEN g % 50 = 1 THEN 'THINK' END,
                       now() - $5::interval - $4::interval * (1 - g::float8 / $1),
                       now() - $5::interval - $4::interval * (1 - g::float8 / $1)
                FROM generate_series(1, $1::int) g
                """, [String(count), kind, prefix, span, ago])
            try await connection.query("""
                INSERT INTO baton.tasks (session_id, kind, phase, step, status, attempt, started_at, finished_at, result)
                SELECT s.id, s.kind, 1, st.step, 'COMPLETED', 1, s.updated_at - interval '30 ms', s.updated_at, '{"ok": true}'
                FROM baton.sessions s CROSS JOIN unnest(ARRAY['THINK', 'EXECUTE', 'INTEGRATE']) st(step)
                WHERE s.kind LIKE $1 || '-%' AND s.id LIKE $2 || '-%'
                """, [kind, prefix])
            try await connection.query("""
                INSERT INTO baton.attempts (task_id, attempt, session_id, kind, worker_id, outcome, started_at, finished_at, output)
                SELECT t.id, 1, t.session_id, t.kind, 'bench', 'SUCCEEDED', t.started_at, t.finished_at, t.result
                FROM baton.tasks t WHERE t.kind LIKE $1 || '-%' AND t.session_id LIKE $2 || '-%' ORDER BY t.finished_at
                """, [kind, prefix])
            try await connection.query("""
                INSERT INTO baton.parked_sessions (session_id, kind, status, since)
                SELECT s.id, s.kind, s.status, s.updated_at FROM baton.sessions s
                WHERE s.kind LIKE $1 || '-%' AND s.id LIKE $2 || '-%' AND s.status = 'FAILED'
                """, [kind, prefix])
            try await connection.query("COMMIT")
        }
        try await pool.query("VACUUM (ANALYZE) baton.sessions, baton.tasks, baton.attempts, baton.parked_sessions")
        try await pool.query("CHECKPOINT")
    }
}
