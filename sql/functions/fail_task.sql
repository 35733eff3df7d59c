-- Fails the current attempt of a RUNNING step, from outside the worker. The step is retried
-- with the backoff of the worker that claimed it, or the session FAILS when attempts are spent.
CREATE OR REPLACE FUNCTION baton.fail_task(task_id bigint, error text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    k baton.tasks := baton.lock_running_task(task_id, 'failed');
    n int := k.attempt - k.attempt_base;
    delay int;
BEGIN
    IF n < coalesce(k.max_attempts, 4) THEN
        delay := baton.retry_delay_ms(n, coalesce(k.retry_delay_ms, 1000), 300000, random());
    END IF;
    PERFORM baton.finish_tasks(k.worker_id, ARRAY[k.id], ARRAY[k.attempt], ARRAY[false],
        ARRAY[NULL::jsonb], ARRAY[coalesce(error, 'failed (no message)')], ARRAY[delay],
        ARRAY[k.started_at], ARRAY[now()], ARRAY[NULL::jsonb], ARRAY[false]);
    RETURN (SELECT s FROM baton.sessions s WHERE s.id = k.session_id);
END
$$;
