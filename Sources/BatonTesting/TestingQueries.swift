/// The kit's reads of Baton's tables: plain statements with bind parameters, pooler-safe.
enum TestingQueries {
    /// Where a session is (no row: no such session).
    static let sessionState = "SELECT s.status, s.error FROM baton.sessions s WHERE s.id = $1"

    /// The session's steps in order, for a failure message; the last 30 of a long session.
    static let sessionSteps = """
        SELECT * FROM (
            SELECT t.phase, t.step, t.status, t.attempt, t.error,
                   t.phase * 3 + array_position(ARRAY['THINK','EXECUTE','INTEGRATE'], t.step) AS position
            FROM baton.tasks t WHERE t.session_id = $1
            ORDER BY position DESC LIMIT 30
        ) last ORDER BY position
        """

    /// The server's clock now: a mark to compare `created_at` (the creating transaction's
    /// start) with.
    static let mark = "SELECT clock_timestamp()::text AS at"

    /// Ids of the sessions created at or after `$1` (NULL: any time) that match the filters,
    /// oldest first. `$2` kind, `$3` input containing, `$4` key, `$5` status, `$6` origin
    /// containing; NULL skips a filter.
    static let matching = """
        SELECT s.id FROM baton.sessions s
        WHERE ($1::timestamptz IS NULL OR s.created_at >= $1::timestamptz)
          AND ($2::text IS NULL OR s.kind = $2)
          AND ($3::jsonb IS NULL OR s.input @> $3::jsonb)
          AND ($4::text IS NULL OR s.key = $4)
          AND ($5::text IS NULL OR s.status = $5)
          AND ($6::jsonb IS NULL OR s.origin @> $6::jsonb)
        ORDER BY s.created_at, s.id
        LIMIT $7::int
        """

    /// Every session created at or after `$1`, briefly, for a failure message.
    static let createdSince = """
        SELECT s.id, s.kind, s.status, s.key, left(s.input::text, 200) AS input,
               (SELECT count(*) FROM baton.sessions c WHERE $1::timestamptz IS NULL OR c.created_at >= $1::timestamptz) AS total
        FROM baton.sessions s
        WHERE $1::timestamptz IS NULL OR s.created_at >= $1::timestamptz
        ORDER BY s.created_at, s.id
        LIMIT 20
        """
}
