-- Steps that an HTTP handler accepted with 202: they continue elsewhere and are finished later
-- through baton.complete_task / baton.fail_task (or the API's /api/tasks/{id}/complete|fail).
-- Such a step stays RUNNING without its worker: the worker releases the session lock and its
-- slot, and the rescuer must neither mistake the step for one whose worker died nor let it
-- wait forever.

-- deferred_attempt names the attempt that was handed off, so a later attempt of the same task
-- (after a retry) is never mistaken for a deferred one; deferred_until is its deadline.
ALTER TABLE baton.tasks
    ADD COLUMN deferred_attempt int,
    ADD COLUMN deferred_until timestamptz;

-- Hands off RUNNING steps that this worker claimed: each stays RUNNING until complete_task or
-- fail_task finishes it, or until `timeout_ms` after its start, when the rescuer fails the
-- attempt. Releases the session locks flagged in `unlock`. Returns DEFERRED for each step
-- handed off, DISCARDED for one that is no longer this worker's current attempt.
CREATE FUNCTION baton.defer_tasks(worker text, task_ids bigint[], attempts int[], timeout_ms int,
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

-- As in 0004, plus: a deferred step is not rescued while its deadline lies ahead (no worker
-- holds its lock by design), and one past its deadline fails its attempt like fail_task does
-- (retried with backoff, or the session FAILS when attempts are spent).
CREATE OR REPLACE FUNCTION baton.rescue_tasks()
RETURNS TABLE (task_id bigint, session_id text, worker_id text, attempt int, outcome text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    dead baton.tasks[];
    late baton.tasks;
BEGIN
    -- One rescuer at a time across all processes (transaction-level: pooler-safe).
    IF NOT pg_try_advisory_xact_lock(baton.lock_class() + 1, 1) THEN
        RETURN;
    END IF;

    FOR late IN
        SELECT k.* FROM baton.tasks k
        WHERE k.status = 'RUNNING' AND k.deferred_attempt = k.attempt AND k.deferred_until <= now()
        ORDER BY k.id
        FOR UPDATE OF k SKIP LOCKED
    LOOP
        PERFORM baton.fail_task(late.id, 'the HTTP handler accepted the step (202) but it was not completed or '
            || 'failed before its deadline (WORKER_TIMEOUT); finish such steps with POST /api/tasks/'
            || late.id || '/complete or /fail');
        RETURN QUERY
        SELECT late.id, late.session_id, late.worker_id, late.attempt,
               CASE WHEN k.status = 'PENDING' THEN 'RETRY' ELSE k.status END
        FROM baton.tasks k WHERE k.id = late.id;
    END LOOP;

    WITH held AS (
        SELECT l.objid::bigint AS key FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
          AND l.classid = baton.lock_class()::oid
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    )
    SELECT array_agg(k) INTO dead
    FROM (
        SELECT k FROM baton.tasks k
        WHERE k.status = 'RUNNING'
          AND k.deferred_attempt IS DISTINCT FROM k.attempt
          AND (hashtext(k.session_id)::bigint & 4294967295) NOT IN (SELECT key FROM held)
        ORDER BY k.session_id
        FOR UPDATE OF k SKIP LOCKED
    ) x;
    IF dead IS NULL THEN
        RETURN;
    END IF;

    INSERT INTO baton.attempts (task_id, attempt, session_id, worker_id, outcome, started_at, error)
    SELECT d.id, d.attempt, d.session_id, d.worker_id, 'RESCUED', d.started_at,
           'rescued: worker ' || coalesce(d.worker_id, '?')
           || ' went away during the attempt (its session lock was released)'
    FROM unnest(dead) d
    ON CONFLICT DO NOTHING;

    UPDATE baton.tasks k
    SET status = CASE WHEN d.attempt - d.attempt_base < coalesce(d.max_attempts, 4) THEN 'PENDING' ELSE 'FAILED' END,
        run_at = now(),
        error = 'rescued from worker ' || coalesce(d.worker_id, '?'),
        finished_at = CASE WHEN d.attempt - d.attempt_base < coalesce(d.max_attempts, 4) THEN NULL ELSE now() END
    FROM unnest(dead) d WHERE k.id = d.id;

    UPDATE baton.sessions s
    SET status = 'FAILED', error = 'attempts spent: the last worker went away during step ' || d.step
    FROM unnest(dead) d
    WHERE s.id = d.session_id AND d.attempt - d.attempt_base >= coalesce(d.max_attempts, 4)
      AND s.status = baton.step_status(d.step) AND s.phase = d.phase AND s.step = d.step;

    RETURN QUERY
    SELECT d.id, d.session_id, d.worker_id, d.attempt,
           CASE WHEN d.attempt - d.attempt_base < coalesce(d.max_attempts, 4) THEN 'RETRY' ELSE 'FAILED' END
    FROM unnest(dead) d;
END
$$;

-- A step queued for later (a retry after backoff, whoever failed it: a worker, fail_task, or
-- the rescuer above) announces when it becomes ready: 'at:<epoch ms>' on baton_task, so every
-- worker sets a timer instead of waiting for its safety poll. Ready rows are announced by id,
-- as before.
CREATE OR REPLACE FUNCTION baton.notify_ready_tasks() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n int;
    ids text;
    later timestamptz;
BEGIN
    SELECT count(*), string_agg(x.id::text, ',') INTO n, ids
    FROM (SELECT r.id FROM new_rows r WHERE r.status = 'PENDING' AND r.run_at <= now() LIMIT 101) x;
    IF n > 0 THEN
        PERFORM pg_notify('baton_task', CASE WHEN n > 100 THEN '' ELSE ids END);
    END IF;
    SELECT min(r.run_at) INTO later FROM new_rows r WHERE r.status = 'PENDING' AND r.run_at > now();
    IF later IS NOT NULL THEN
        PERFORM pg_notify('baton_task', 'at:' || floor(extract(epoch FROM later) * 1000)::bigint);
    END IF;
    RETURN NULL;
END
$$;
