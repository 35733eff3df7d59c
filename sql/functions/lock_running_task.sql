-- Locks a task row and returns it, or raises BT404; BT409 unless it is RUNNING.
CREATE OR REPLACE FUNCTION baton.lock_running_task(task_id bigint, what text) RETURNS baton.tasks
LANGUAGE plpgsql AS $$
DECLARE
    k baton.tasks;
BEGIN
    SELECT * INTO k FROM baton.tasks t WHERE t.id = lock_running_task.task_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown task %', task_id USING ERRCODE = 'BT404';
    END IF;
    IF k.status <> 'RUNNING' THEN
        RAISE EXCEPTION 'task % is %; only a RUNNING task can be %', task_id, k.status, what
            USING ERRCODE = 'BT409';
    END IF;
    RETURN k;
END
$$;
