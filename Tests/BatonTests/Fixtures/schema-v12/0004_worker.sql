-- The worker's hot path: claim a batch, finish a batch, rescue steps whose worker died.
-- Each is one statement for the worker (one round trip), set-based inside.

-- Claims up to `max_tasks` ready tasks for `worker`. A task is claimed only when this
-- connection also takes its session's advisory lock, which it holds while the step runs and
-- which dies with the connection (that is how the rescuer knows a worker died). Rows whose
-- session lock is busy are returned with lock_busy = true and stay PENDING.
CREATE FUNCTION baton.claim_tasks(
    worker text, max_tasks int, kinds text[] DEFAULT NULL,
    max_attempts int DEFAULT 4, retry_delay_ms int DEFAULT 1000)
RETURNS TABLE (task_id bigint, session_id text, kind text, phase int, step text, attempt int,
               budget_attempt int, total_phases int, input jsonb, previous jsonb, lock_busy boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH picked AS MATERIALIZED (
        SELECT k.id, k.session_id FROM baton.tasks k
        WHERE k.status = 'PENDING' AND k.run_at <= now()
          AND (claim_tasks.kinds IS NULL OR k.kind = ANY (claim_tasks.kinds))
        ORDER BY k.run_at, k.id
        LIMIT claim_tasks.max_tasks
        FOR UPDATE SKIP LOCKED
    ), locked AS MATERIALIZED (
        -- Materialized: the lock function runs exactly once per picked row.
        SELECT p.id, pg_try_advisory_lock(baton.lock_class(), hashtext(p.session_id)) AS ok FROM picked p
    ), claimed AS (
        UPDATE baton.tasks k
        SET status = 'RUNNING', attempt = k.attempt + 1, worker_id = claim_tasks.worker,
            started_at = now(), finished_at = NULL,
            max_attempts = claim_tasks.max_attempts, retry_delay_ms = claim_tasks.retry_delay_ms
        FROM locked l WHERE k.id = l.id AND l.ok
        RETURNING k.id, k.session_id, k.kind, k.phase, k.step, k.attempt, k.attempt - k.attempt_base AS budget_attempt
    ), started AS (
        UPDATE baton.sessions s SET status = 'THINKING'
        FROM claimed c WHERE s.id = c.session_id AND s.status = 'PENDING'
        RETURNING s.id
    )
    SELECT c.id, c.session_id, c.kind, c.phase, c.step, c.attempt, c.budget_attempt,
           s.total_phases, s.input,
           coalesce((SELECT jsonb_object_agg(p.phase || '.' || p.step, p.result)
                     FROM baton.tasks p
                     WHERE p.session_id = c.session_id AND p.status = 'COMPLETED'
                       AND (p.phase = c.phase OR (p.phase < c.phase AND p.step = 'INTEGRATE'))),
                    '{}'::jsonb),
           false
    FROM claimed c JOIN baton.sessions s ON s.id = c.session_id
    UNION ALL
    SELECT l.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true
    FROM locked l WHERE NOT l.ok;
END
$$;

-- The earliest time a PENDING task becomes ready (for the worker's next timer), or NULL.
CREATE FUNCTION baton.next_run_at(kinds text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT min(k.run_at) FROM baton.tasks k
    WHERE k.status = 'PENDING' AND (kinds IS NULL OR k.kind = ANY (kinds))
$$;

-- Finishes a batch of attempts in one transaction: records every attempt, applies each result
-- that is still current (the task is RUNNING this very attempt for this worker, and the session
-- sits at that step), moves the sessions through the state machine, queues the next steps, and
-- releases the session locks flagged in `unlock`. A result that is no longer current (the
-- session was cancelled, or the step was rescued and handed on) is recorded as DISCARDED.
-- retry_delays_ms: for a failed attempt, NULL fails the session; a number retries after it.
-- Returns each task's outcome: SUCCEEDED, RETRY, FAILED or DISCARDED.
CREATE FUNCTION baton.finish_tasks(
    worker text, task_ids bigint[], attempts int[], succeeded boolean[], results jsonb[],
    errors text[], retry_delays_ms int[], started timestamptz[], finished timestamptz[],
    inputs jsonb[], unlock boolean[])
RETURNS TABLE (task_id bigint, outcome text)
LANGUAGE plpgsql
SET client_min_messages = error  -- unlocking a lock of a connection that was lost only warns
AS $$
#variable_conflict use_column
DECLARE
    live boolean[];
BEGIN
    -- Lock the tasks and their sessions in one order (session id) so batches never deadlock,
    -- and decide for each attempt whether it is still the current one.
    WITH held AS MATERIALIZED (
        SELECT k.id, k.status, k.attempt, k.worker_id,
               s.status = baton.step_status(k.step) AND s.phase = k.phase AND s.step = k.step AS at_step
        FROM baton.tasks k JOIN baton.sessions s ON s.id = k.session_id
        WHERE k.id = ANY (task_ids)
        ORDER BY s.id
        FOR UPDATE OF k, s
    )
    SELECT array_agg(coalesce(h.status = 'RUNNING' AND h.attempt = f.attempt
                              AND h.worker_id IS NOT DISTINCT FROM finish_tasks.worker AND h.at_step, false)
                     ORDER BY f.i)
    INTO live
    FROM unnest(task_ids, attempts) WITH ORDINALITY f(task_id, attempt, i)
    LEFT JOIN held h ON h.id = f.task_id;

    INSERT INTO baton.attempts AS a (task_id, attempt, session_id, worker_id, outcome,
                                     started_at, finished_at, input, output, error)
    SELECT f.task_id, f.attempt, k.session_id, finish_tasks.worker,
           CASE WHEN NOT live[f.i] THEN 'DISCARDED' WHEN f.ok THEN 'SUCCEEDED' ELSE 'FAILED' END,
           f.started_at, coalesce(f.finished_at, now()), f.input, f.result,
           CASE WHEN live[f.i] THEN f.error
                ELSE concat_ws('; ', f.error, 'result discarded: task is ' || k.status
                                || CASE WHEN k.status = 'RUNNING' AND k.attempt <> f.attempt
                                        THEN ' as attempt ' || k.attempt ELSE '' END) END
    FROM unnest(task_ids, attempts, succeeded, results, errors, started, finished, inputs)
         WITH ORDINALITY f(task_id, attempt, ok, result, error, started_at, finished_at, input, i)
    JOIN baton.tasks k ON k.id = f.task_id
    ON CONFLICT (task_id, attempt) DO UPDATE
        SET error = concat_ws('; ', a.error, 'late ' || lower(EXCLUDED.outcome) || ' result from worker '
                              || coalesce(EXCLUDED.worker_id, '?') || ' refused');

    -- Tasks first: the current task must stop being active before the next one is queued.
    UPDATE baton.tasks k
    SET status = CASE WHEN f.ok THEN 'COMPLETED' WHEN f.retry_ms IS NULL THEN 'FAILED' ELSE 'PENDING' END,
        result = CASE WHEN f.ok THEN f.result END,
        error = CASE WHEN f.ok THEN NULL ELSE f.error END,
        finished_at = CASE WHEN f.ok OR f.retry_ms IS NULL THEN coalesce(f.finished_at, now()) END,
        run_at = CASE WHEN NOT f.ok AND f.retry_ms IS NOT NULL
                      THEN now() + f.retry_ms * interval '1 millisecond' ELSE k.run_at END
    FROM unnest(task_ids, succeeded, results, errors, retry_delays_ms, finished)
         WITH ORDINALITY f(task_id, ok, result, error, retry_ms, finished_at, i)
    WHERE k.id = f.task_id AND live[f.i];

    -- Sessions move on; the next steps are queued in the same statement.
    WITH d AS MATERIALIZED (
        SELECT s.id AS session_id, s.kind, x.next_status, x.next_phase, x.next_step, x.action, f.error
        FROM unnest(task_ids, succeeded, errors, retry_delays_ms)
             WITH ORDINALITY f(task_id, ok, error, retry_ms, i)
        JOIN baton.tasks k ON k.id = f.task_id
        JOIN baton.sessions s ON s.id = k.session_id
        CROSS JOIN LATERAL baton.decide(s.status, s.phase, s.step, s.total_phases, s.auto_steps,
                                        s.auto_phases, CASE WHEN f.ok THEN 'succeed' ELSE 'fail' END) x
        WHERE live[f.i] AND (f.ok OR f.retry_ms IS NULL)
    ), moved AS (
        UPDATE baton.sessions s
        SET status = d.next_status, phase = d.next_phase, step = d.next_step,
            error = CASE WHEN d.action = 'fail' THEN d.error END
        FROM d WHERE s.id = d.session_id
        RETURNING s.id
    )
    INSERT INTO baton.tasks (session_id, kind, phase, step)
    SELECT d.session_id, d.kind, d.next_phase, d.next_step FROM d WHERE d.action = 'enqueue';

    PERFORM pg_advisory_unlock(baton.lock_class(), hashtext(k.session_id))
    FROM unnest(task_ids, unlock) f(task_id, release)
    JOIN baton.tasks k ON k.id = f.task_id
    WHERE f.release;

    RETURN QUERY
    SELECT f.task_id,
           CASE WHEN NOT live[f.i] THEN 'DISCARDED' WHEN f.ok THEN 'SUCCEEDED'
                WHEN f.retry_ms IS NULL THEN 'FAILED' ELSE 'RETRY' END
    FROM unnest(task_ids, succeeded, retry_delays_ms) WITH ORDINALITY f(task_id, ok, retry_ms, i);
END
$$;

-- Gives back steps without spending an attempt (a worker shutting down with steps unfinished).
CREATE FUNCTION baton.release_tasks(worker text, task_ids bigint[], attempts int[], unlock boolean[])
RETURNS int
LANGUAGE plpgsql
SET client_min_messages = error
AS $$
DECLARE
    n int;
BEGIN
    UPDATE baton.tasks k
    SET status = 'PENDING', attempt = k.attempt - 1, run_at = now(), worker_id = NULL, started_at = NULL
    FROM unnest(task_ids, attempts) f(task_id, attempt)
    WHERE k.id = f.task_id AND k.status = 'RUNNING' AND k.attempt = f.attempt
      AND k.worker_id = release_tasks.worker;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM pg_advisory_unlock(baton.lock_class(), hashtext(k.session_id))
    FROM unnest(task_ids, unlock) f(task_id, release)
    JOIN baton.tasks k ON k.id = f.task_id
    WHERE f.release;
    RETURN n;
END
$$;

-- Rescues RUNNING steps whose session lock no backend holds: their worker's connection ended
-- (the process died or was cut off). Each goes back to PENDING with the attempt counted, or to
-- FAILED (and its session with it) when its retry budget is spent. Rows that a finishing
-- worker holds are skipped, so a step is never rescued while its result is being committed.
CREATE FUNCTION baton.rescue_tasks()
RETURNS TABLE (task_id bigint, session_id text, worker_id text, attempt int, outcome text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    dead baton.tasks[];
BEGIN
    -- One rescuer at a time across all processes (transaction-level: pooler-safe).
    IF NOT pg_try_advisory_xact_lock(baton.lock_class() + 1, 1) THEN
        RETURN;
    END IF;
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

-- finish_tasks, then claim_tasks, in one transaction and one round trip: a worker with free
-- slots commits what finished and takes its next steps at once, including the steps that this
-- very commit queued (their session locks are released and retaken on this connection; other
-- workers cannot see those tasks before the commit). Rows with finished_task_id set report a
-- finished attempt; the others are claimed steps, as claim_tasks returns them.
CREATE FUNCTION baton.finish_and_claim(
    worker text, task_ids bigint[], attempts int[], succeeded boolean[], results jsonb[],
    errors text[], retry_delays_ms int[], started timestamptz[], finished timestamptz[],
    inputs jsonb[], unlock boolean[],
    max_tasks int, kinds text[] DEFAULT NULL, max_attempts int DEFAULT 4, retry_delay_ms int DEFAULT 1000)
RETURNS TABLE (finished_task_id bigint, finished_outcome text,
               task_id bigint, session_id text, kind text, phase int, step text, attempt int,
               budget_attempt int, total_phases int, input jsonb, previous jsonb, lock_busy boolean)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    SELECT f.task_id, f.outcome, NULL::bigint, NULL::text, NULL::text, NULL::int, NULL::text, NULL::int,
           NULL::int, NULL::int, NULL::jsonb, NULL::jsonb, NULL::boolean
    FROM baton.finish_tasks(worker, task_ids, attempts, succeeded, results, errors, retry_delays_ms,
                            started, finished, inputs, unlock) f;
    IF max_tasks > 0 THEN
        RETURN QUERY
        SELECT NULL::bigint, NULL::text, c.*
        FROM baton.claim_tasks(worker, max_tasks, kinds, max_attempts, retry_delay_ms) c;
    END IF;
END
$$;
