-- The rescuer: takes back RUNNING steps whose worker is gone. Each goes back to PENDING with the
-- attempt counted (keeping its place in the queue), or to FAILED (and its session with it) when
-- its retry budget is spent. Rows that a finishing worker holds are skipped, so a step is never
-- rescued while its result is being committed. The attempt number stays the fence: a late
-- result from the old worker is refused by baton.finish_tasks and recorded.
--
-- Which worker is gone: a free session lock says the worker's connection is gone, not that the
-- worker is: after a database restart or a cut connection the worker still runs its handlers
-- and will commit their results once it reconnects. So a step is rescued only when its worker
-- has also been silent (no baton.heartbeat) for `lock_grace_ms` (counted from the database's own
-- start, so a restart gives every worker that long to come back), or silent for `stale_ms` even
-- though its lock is still held (a half-open connection the server has not noticed; the rescuer
-- ends that backend so the session lock is freed for the next attempt).
--
-- A deferred step (an HTTP handler answered 202, see baton.defer_tasks) has no worker holding
-- its lock by design: it is not rescued while its deadline lies ahead, and one past its deadline
-- fails its attempt like fail_task does (retried with backoff, or the session FAILS when
-- attempts are spent).
--
-- `reason` says why each step was taken back: 'deadline', 'lock released' or 'stale'. Every
-- rescued attempt records its kind, for the statistics.
CREATE OR REPLACE FUNCTION baton.rescue_tasks(lock_grace_ms int DEFAULT 5000, stale_ms int DEFAULT 60000)
RETURNS TABLE (task_id bigint, session_id text, worker_id text, attempt int, outcome text, reason text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    dead baton.tasks[];
    late baton.tasks;
    kinds text[];
    why text[];
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
               CASE WHEN k.status = 'PENDING' THEN 'RETRY' ELSE k.status END, 'deadline'
        FROM baton.tasks k WHERE k.id = late.id;
    END LOOP;

    WITH held AS (
        SELECT l.objid::bigint AS key, l.pid FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
          AND l.classid = baton.lock_class()::oid
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    ), chosen AS (
        -- Filtered before locking: live workers' rows are never locked here, so their commits
        -- never wait on the rescuer.
        SELECT k AS task, h.pid AS holder, w.backend_pid, x.silent,
               CASE WHEN h.pid IS NULL THEN 'its session lock was released'
                    ELSE 'its connection still held the session lock and was ended' END AS reason
        FROM baton.tasks k
        LEFT JOIN baton.workers w ON w.id = k.worker_id
        LEFT JOIN held h ON h.key = (hashtext(k.session_id)::bigint & 4294967295)
        CROSS JOIN LATERAL (
            SELECT now() - greatest(coalesce(w.heartbeat_at, k.started_at, now()), pg_postmaster_start_time()) AS silent
        ) x
        WHERE k.status = 'RUNNING'
          AND k.deferred_attempt IS DISTINCT FROM k.attempt
          AND ((h.pid IS NULL AND x.silent > lock_grace_ms * interval '1 millisecond')
               OR x.silent > stale_ms * interval '1 millisecond')
        ORDER BY k.session_id
        FOR UPDATE OF k SKIP LOCKED
    ), ended AS (
        -- Only the worker's own claim backend is ended, never a backend that reused its pid.
        SELECT pg_terminate_backend(c.holder) FROM chosen c
        WHERE c.holder IS NOT NULL AND c.holder = c.backend_pid
    )
    SELECT array_agg(c.task ORDER BY (c.task).session_id),
           array_agg(CASE WHEN c.holder IS NULL THEN 'lock released' ELSE 'stale' END ORDER BY (c.task).session_id),
           array_agg(c.reason || '; no heartbeat for ' || round(extract(epoch FROM c.silent)::numeric, 1) || ' s'
                     ORDER BY (c.task).session_id)
    INTO dead, kinds, why
    FROM chosen c CROSS JOIN (SELECT count(*) FROM ended) e;  -- forces the terminations to run
    -- Forget workers long gone (their steps were rescued long ago).
    DELETE FROM baton.workers w
    WHERE w.heartbeat_at < now() - interval '1 day'
      AND NOT EXISTS (SELECT 1 FROM baton.tasks k WHERE k.worker_id = w.id AND k.status = 'RUNNING');

    IF dead IS NULL THEN
        RETURN;
    END IF;

    INSERT INTO baton.attempts (task_id, attempt, session_id, kind, worker_id, outcome, started_at, error)
    SELECT d.id, d.attempt, d.session_id, d.kind, d.worker_id, 'RESCUED', d.started_at,
           'rescued: worker ' || coalesce(d.worker_id, '?') || ' went away during the attempt (' || r.why || ')'
    FROM unnest(dead) WITH ORDINALITY d
    JOIN unnest(why) WITH ORDINALITY r(why, i) ON r.i = d.ordinality
    ON CONFLICT DO NOTHING;

    UPDATE baton.tasks k
    SET status = CASE WHEN d.attempt - d.attempt_base < coalesce(d.max_attempts, 4) THEN 'PENDING' ELSE 'FAILED' END,
        -- Its place in the queue is kept (run_at is when it first became ready): a crash must
        -- not send the session to the back of a long queue.
        run_at = least(k.run_at, now()),
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
           CASE WHEN d.attempt - d.attempt_base < coalesce(d.max_attempts, 4) THEN 'RETRY' ELSE 'FAILED' END, r.kind
    FROM unnest(dead) WITH ORDINALITY d
    JOIN unnest(kinds) WITH ORDINALITY r(kind, i) ON r.i = d.ordinality;
END
$$;
