-- Retention: deletes up to `batch_size` finished sessions (COMPLETED, CANCELLED or FAILED) whose
-- last change is older than their kind's retention, with their tasks and attempts (by cascade),
-- and the schedule history older than the default retention, in the caller's transaction,
-- which should be short: the pruner commits every batch, so no lock is held long and the hot
-- path never waits on a big delete.
-- One pruner at a time across all processes (a transaction-level lock, so it is pooler-safe):
-- returns NULL without deleting when another one holds the turn.
-- retention: the default (NULL keeps sessions of kinds without their own rule); kinds and
-- kind_retention: per-kind rules (a NULL retention keeps that kind).
-- Candidates are read oldest first through sessions_created: a session changes last after it
-- was created, so a creation older than the shortest retention is necessary, and no index is
-- added to the hot path for retention. Sessions locked by anyone are skipped, never waited for.
CREATE OR REPLACE FUNCTION baton.prune_sessions(
    retention interval, kinds text[] DEFAULT '{}', kind_retention interval[] DEFAULT '{}',
    batch_size int DEFAULT 1000)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    shortest interval;
    pruned int;
BEGIN
    IF cardinality(coalesce(kinds, '{}')) <> cardinality(coalesce(kind_retention, '{}')) THEN
        RAISE EXCEPTION 'kinds and kind_retention must have the same length (got % and %)',
            cardinality(kinds), cardinality(kind_retention) USING ERRCODE = 'BT400';
    END IF;
    IF NOT pg_try_advisory_xact_lock(baton.lock_class() + 1, 2) THEN
        RETURN NULL;
    END IF;
    SELECT min(r) INTO shortest FROM unnest(array_append(kind_retention, retention)) r;
    IF shortest IS NULL THEN
        RETURN 0;
    END IF;

    WITH victims AS (
        SELECT s.id FROM baton.sessions s
        LEFT JOIN unnest(kinds, kind_retention) rule(kind, keep) ON rule.kind = s.kind
        WHERE s.created_at < now() - shortest
          AND s.status IN ('COMPLETED', 'CANCELLED', 'FAILED')
          AND s.updated_at < now() - CASE WHEN rule.kind IS NULL THEN retention ELSE rule.keep END
        ORDER BY s.created_at, s.id
        LIMIT batch_size
        FOR UPDATE OF s SKIP LOCKED
    )
    DELETE FROM baton.sessions s USING victims v WHERE s.id = v.id;
    GET DIAGNOSTICS pruned = ROW_COUNT;

    IF retention IS NOT NULL THEN
        DELETE FROM baton.schedule_runs r
        WHERE (r.schedule, r.due_at) IN (
            SELECT x.schedule, x.due_at FROM baton.schedule_runs x
            WHERE x.created_at < now() - retention
            LIMIT batch_size);
    END IF;
    RETURN pruned;
END
$$;
