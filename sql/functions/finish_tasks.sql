-- The worker's commit: finishes a batch of attempts in one transaction: records every attempt
-- (with its kind, for the statistics), applies each result that is still current (the task is
-- RUNNING this very attempt for this worker, and the session sits at that step), moves the
-- sessions through the state machine, queues the next steps, and releases the session locks
-- flagged in `unlock`. A result that is no longer current (the session was cancelled, or the
-- step was rescued and handed on) is recorded as DISCARDED.
-- retry_delays_ms: for a failed attempt, NULL fails the session; a number retries after it.
-- Returns each task's outcome: SUCCEEDED, RETRY, FAILED or DISCARDED.
CREATE OR REPLACE FUNCTION baton.finish_tasks(
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

    INSERT INTO baton.attempts AS a (task_id, attempt, session_id, kind, worker_id, outcome,
                                     started_at, finished_at, input, output, error)
    SELECT f.task_id, f.attempt, k.session_id, k.kind, finish_tasks.worker,
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
            version = s.version + 1, updated_at = now(),
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
