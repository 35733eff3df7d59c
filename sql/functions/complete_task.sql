-- Finishes a RUNNING step with a result, from outside the worker (an HTTP handler's 202).
CREATE OR REPLACE FUNCTION baton.complete_task(task_id bigint, result jsonb) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    k baton.tasks := baton.lock_running_task(task_id, 'completed');
BEGIN
    PERFORM baton.finish_tasks(k.worker_id, ARRAY[k.id], ARRAY[k.attempt], ARRAY[true],
        ARRAY[coalesce(result, 'null'::jsonb)], ARRAY[NULL::text], ARRAY[NULL::int],
        ARRAY[k.started_at], ARRAY[now()], ARRAY[NULL::jsonb], ARRAY[false]);
    RETURN (SELECT s FROM baton.sessions s WHERE s.id = k.session_id);
END
$$;
