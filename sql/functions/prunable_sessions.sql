-- What baton.prune_sessions would delete now, per kind (`baton prune --dry-run`): the sessions,
-- their tasks and attempts, and the oldest last change among them. Same arguments and rules.
CREATE OR REPLACE FUNCTION baton.prunable_sessions(
    retention interval, kinds text[] DEFAULT '{}', kind_retention interval[] DEFAULT '{}')
RETURNS TABLE (kind text, sessions bigint, tasks bigint, attempts bigint, oldest timestamptz)
LANGUAGE sql STABLE AS $$
    WITH victims AS (
        SELECT s.id, s.kind, s.updated_at FROM baton.sessions s
        LEFT JOIN unnest(kinds, kind_retention) rule(kind, keep) ON rule.kind = s.kind
        WHERE s.created_at < now() - (SELECT min(r) FROM unnest(array_append(kind_retention, retention)) r)
          AND s.status IN ('COMPLETED', 'CANCELLED', 'FAILED')
          AND s.updated_at < now() - CASE WHEN rule.kind IS NULL THEN retention ELSE rule.keep END
    )
    SELECT v.kind, count(DISTINCT v.id), count(DISTINCT k.id),
           count(a.task_id), min(v.updated_at)
    FROM victims v
    LEFT JOIN baton.tasks k ON k.session_id = v.id
    LEFT JOIN baton.attempts a ON a.task_id = k.id
    GROUP BY v.kind ORDER BY v.kind
$$;
