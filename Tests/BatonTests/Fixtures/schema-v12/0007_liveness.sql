-- Worker liveness: a heartbeat per worker, and a rescuer that tells a dead worker from one that
-- only lost its connection for a moment.
--
-- A session lock that is free says the worker's connection is gone, not that the worker is:
-- after a database restart or a cut connection the worker still runs its handlers and will
-- commit their results once it reconnects. So a step is rescued only when its worker has also
-- been silent for `lock_grace_ms` (counted from the database's own start, so a restart gives
-- every worker that long to come back), or silent for `stale_ms` even though its lock is still
-- held (a half-open connection the server has not noticed; the rescuer ends that backend so
-- the session lock is freed for the next attempt). The attempt number stays the fence: a late
-- result from the old worker is refused by baton.finish_tasks and recorded.

CREATE TABLE baton.workers (
    id           text PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    -- The backend of the worker's claim connection, which holds its session locks.
    backend_pid  int
);

-- Records that `worker` is alive, on the connection that holds its session locks. `task_ids`
-- and `attempts` are the steps it runs; returns those that are no longer its current attempt
-- (rescued, cancelled, finished elsewhere), whose handlers the worker should stop.
CREATE FUNCTION baton.heartbeat(worker text, task_ids bigint[], attempts int[])
RETURNS TABLE (task_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    INSERT INTO baton.workers AS w (id, backend_pid) VALUES (worker, pg_backend_pid())
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), backend_pid = EXCLUDED.backend_pid;

    RETURN QUERY
    SELECT f.task_id
    FROM unnest(task_ids, attempts) f(task_id, attempt)
    LEFT JOIN baton.tasks k ON k.id = f.task_id
    WHERE k.id IS NULL OR k.status <> 'RUNNING' OR k.attempt <> f.attempt
       OR k.worker_id IS DISTINCT FROM heartbeat.worker;
END
$$;

-- A worker that stops cleanly says so; its steps were finished or given back.
CREATE FUNCTION baton.worker_stopped(worker text) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM baton.workers WHERE id = worker;
$$;

DROP FUNCTION baton.rescue_tasks();

-- As in 0006 (deferred steps), with the liveness rule above. `reason` says why each step was
-- taken back: 'deadline' (a handed-off step not finished in time), 'lock released' or 'stale'.
CREATE FUNCTION baton.rescue_tasks(lock_grace_ms int DEFAULT 5000, stale_ms int DEFAULT 60000)
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

    INSERT INTO baton.attempts (task_id, attempt, session_id, worker_id, outcome, started_at, error)
    SELECT d.id, d.attempt, d.session_id, d.worker_id, 'RESCUED', d.started_at,
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
