-- Hands off RUNNING steps that this worker claimed: each stays RUNNING until complete_task or
-- fail_task finishes it, or until `timeout_ms` after its start, when the rescuer fails the
-- attempt. Releases the session locks flagged in `unlock`. Returns DEFERRED for each step
-- handed off, DISCARDED for one that is no longer this worker's current attempt.
CREATE OR REPLACE FUNCTION baton.defer_tasks(worker text, task_ids bigint[], attempts int[], timeout_ms int,
                                             unlock boolean[])
RETURNS TABLE (task_id bigint, outcome text)
LANGUAGE plpgsql
SET client_min_messages = error  -- unlocking a lock of a connection that was lost only warns
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH deferred AS (
        UPDATE baton.tasks k
        SET deferred_attempt = k.attempt,
            deferred_until = coalesce(k.started_at, now()) + timeout_ms * interval '1 millisecond'
        FROM unnest(task_ids, attempts) f(task_id, attempt)
        WHERE k.id = f.task_id AND k.status = 'RUNNING' AND k.attempt = f.attempt
          AND k.worker_id = defer_tasks.worker
        RETURNING k.id
    ), released AS (
        SELECT pg_advisory_unlock(baton.lock_class(), hashtext(k.session_id))
        FROM unnest(task_ids, unlock) f(task_id, release)
        JOIN baton.tasks k ON k.id = f.task_id
        WHERE f.release
    )
    SELECT f.task_id, CASE WHEN d.id IS NULL THEN 'DISCARDED' ELSE 'DEFERRED' END
    FROM unnest(task_ids) f(task_id)
    LEFT JOIN deferred d ON d.id = f.task_id
    CROSS JOIN (SELECT count(*) FROM released) r;  -- forces the unlocks to run
END
$$;
