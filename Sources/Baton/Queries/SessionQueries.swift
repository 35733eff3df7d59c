/// Reads and actions on sessions for clients (CLI, API). Plain statements with bind
/// parameters; they run on pooled connections (pooler-safe).
enum SessionQueries {
    /// ISO 8601 UTC text for a timestamptz column.
    private static func iso(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    }

    static let sessionColumns = """
        s.id, s.kind, s.status, s.phase, s.step, s.total_phases, s.auto_steps, s.auto_phases,
        s.input::text AS input, s.error, s.version, \(iso("s.created_at")) AS created_at, \(iso("s.updated_at")) AS updated_at,
        s.key, s.origin::text AS origin
        """

    static let create = """
        SELECT \(sessionColumns)
        FROM baton.create_session($1::int, $2::jsonb, $3, coalesce($4, 'default'), $5::boolean, $6::boolean) s
        """
    static let proceed = "SELECT \(sessionColumns) FROM baton.proceed($1, $2, $3::jsonb, $4) s"
    static let retry = "SELECT \(sessionColumns) FROM baton.retry($1) s"
    static let cancel = "SELECT \(sessionColumns) FROM baton.cancel($1) s"
    static let completeTask = "SELECT \(sessionColumns) FROM baton.complete_task($1::bigint, $2::jsonb) s"
    static let failTask = "SELECT \(sessionColumns) FROM baton.fail_task($1::bigint, $2) s"
    static let get = "SELECT \(sessionColumns) FROM baton.sessions s WHERE s.id = $1"
    /// Newest first; `$3`/`$4` are the cursor (created_at in microseconds since 1970, id) of the
    /// last row of the previous page, and `created_us` is that position of each row.
    static let list = """
        SELECT \(sessionColumns), (extract(epoch FROM s.created_at) * 1000000)::bigint AS created_us
        FROM baton.sessions s
        WHERE ($1::text IS NULL OR s.status = $1) AND ($2::text IS NULL OR s.kind = $2)
          AND ($4::text IS NULL OR (s.created_at, s.id) < (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4))
        ORDER BY s.created_at DESC, s.id DESC
        LIMIT $5::int
        """
    static let steps = """
        SELECT t.id, t.phase, t.step, t.status, t.attempt, \(iso("t.run_at")) AS run_at, t.worker_id,
               \(iso("t.started_at")) AS started_at, \(iso("t.finished_at")) AS finished_at,
               t.result::text AS result, t.error
        FROM baton.tasks t WHERE t.session_id = $1 ORDER BY t.phase, array_position(ARRAY['THINK','EXECUTE','INTEGRATE'], t.step)
        """
    static let attempts = """
        SELECT a.task_id, a.attempt, a.worker_id, a.outcome, \(iso("a.started_at")) AS started_at,
               \(iso("a.finished_at")) AS finished_at, a.input::text AS input, a.output::text AS output, a.error
        FROM baton.attempts a WHERE a.session_id = $1 ORDER BY a.task_id, a.attempt
        """
    static let reviews = """
        SELECT r.phase, r.step, r.reviewer, r.note, r.payload::text AS payload, \(iso("r.created_at")) AS created_at
        FROM baton.reviews r WHERE r.session_id = $1 ORDER BY r.id
        """
    /// What `/metrics` reports each scrape: active tasks by status (through the partial
    /// index, so cheap however long the history), ready tasks, and sessions by status.
    static let queueDepth = """
        SELECT 'task' AS what, status AS key, count(*) AS n FROM baton.tasks
        WHERE status IN ('PENDING', 'RUNNING') GROUP BY status
        UNION ALL SELECT 'ready', '', count(*) FROM baton.tasks WHERE status = 'PENDING' AND run_at <= now()
        UNION ALL SELECT 'session', status, count(*) FROM baton.sessions GROUP BY status
        """
    static let ping = "SELECT 1 AS ok"
}
