/// Statistics (sql/functions/stats.sql).
enum StatsQueries {
    static let stats = "SELECT baton.stats()::text AS stats"
}
