/// Schedules (sql/functions/schedule.sql, fire_schedule.sql, …): for clients, and for the scheduler service.
enum ScheduleQueries {
    private static func iso(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    }

    static let columns = """
        s.name, s.kind, s.input::text AS input, s.phases, s.auto_phases, s.every_ms, s.cron, s.time_zone,
        \(iso("s.next_due")) AS next_due, \(iso("s.created_at")) AS created_at, \(iso("s.updated_at")) AS updated_at
        """
    static let every = """
        SELECT \(columns) FROM baton.schedule(name => $1, every => $2::interval, kind => $3,
            input => coalesce($4::jsonb, '{}'), phases => coalesce($5::int, 1), auto_phases => coalesce($6::boolean, true)) s
        """
    static let cron = """
        SELECT \(columns) FROM baton.schedule(name => $1, cron => $2, kind => $3,
            input => coalesce($4::jsonb, '{}'), phases => coalesce($5::int, 1), time_zone => coalesce($7, 'UTC'),
            auto_phases => coalesce($6::boolean, true)) s
        """
    static let unschedule = "SELECT \(columns) FROM baton.unschedule($1) s"
    static let list = "SELECT \(columns) FROM baton.schedules s ORDER BY s.name"
    static let get = "SELECT \(columns) FROM baton.schedules s WHERE s.name = $1"
    static let runNow = "SELECT \(SessionQueries.sessionColumns) FROM baton.run_schedule($1) s"
    static let runs = """
        SELECT r.schedule, \(iso("r.due_at")) AS due_at, r.outcome, r.slots, \(iso("r.last_slot")) AS last_slot,
               r.session_id, r.note, \(iso("r.created_at")) AS created_at
        FROM baton.schedule_runs r WHERE r.schedule = $1 ORDER BY r.due_at DESC LIMIT $2::int
        """

    // The scheduler's. Instants travel as whole microseconds since 1970, so a due time read
    // and written back compares equal (fire_schedule's compare-and-set).
    private static func micros(_ column: String) -> String { "(extract(epoch FROM \(column)) * 1000000)::bigint" }
    /// Schedules due now or without a due time, the database's now, and the next due time after now.
    static let due = """
        SELECT s.name, s.every_ms, s.cron, s.time_zone, \(micros("s.anchor")) AS anchor_us,
               \(micros("s.next_due")) AS next_due_us, \(micros("now()")) AS now_us,
               (SELECT \(micros("min(x.next_due)")) FROM baton.schedules x WHERE x.next_due > now()) AS wake_us
        FROM (SELECT 1) one LEFT JOIN baton.schedules s ON s.next_due IS NULL OR s.next_due <= now()
        """
    static let plan = "SELECT baton.plan_schedule($1, to_timestamp($2::numeric / 1000000)) AS planned"
    static let fire = """
        SELECT outcome, session_id FROM baton.fire_schedule($1, to_timestamp($2::numeric / 1000000), $3::int,
            to_timestamp($4::numeric / 1000000), to_timestamp($5::numeric / 1000000))
        """
}
