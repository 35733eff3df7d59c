/// Statistics (sql/0011_stats.sql).
enum StatsQueries {
    static let stats = "SELECT baton.stats()::text AS stats"
}
