/// Watches of application tables (sql/functions/watch.sql), for clients. Pooler-safe statements.
enum WatchQueries {
    static let columns = """
        w.id, w.source_name, w.source::text AS source, w.kind, w.key_column, w.phases, to_jsonb(w.columns)::text AS columns,
        w.auto_phases, to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
        EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = w.source) AS table_exists
        """
    static let watch = """
        SELECT \(columns) FROM baton.watch($1::regclass, $2, coalesce($3, 'id'), coalesce($4::int, 1), $5::text[],
                                          coalesce($6::boolean, true)) w
        """
    static let unwatch = "SELECT \(columns) FROM baton.unwatch($1::regclass, $2) w"
    static let list = "SELECT \(columns) FROM baton.watches w ORDER BY w.source_name, w.kind"
}
