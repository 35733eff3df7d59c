-- Gives back steps without spending an attempt (a worker shutting down with steps unfinished).
CREATE OR REPLACE FUNCTION baton.release_tasks(worker text, task_ids bigint[], attempts int[], unlock boolean[])
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
