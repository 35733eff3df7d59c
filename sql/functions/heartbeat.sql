-- Records that `worker` is alive, on the connection that holds its session locks. `task_ids`
-- and `attempts` are the steps it runs; returns those that are no longer its current attempt
-- (rescued, cancelled, finished elsewhere), whose handlers the worker should stop.
CREATE OR REPLACE FUNCTION baton.heartbeat(worker text, task_ids bigint[], attempts int[])
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
