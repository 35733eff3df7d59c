-- finish_tasks, then claim_tasks, in one transaction and one round trip: a worker with free
-- slots commits what finished and takes its next steps at once, including the steps that this
-- very commit queued (their session locks are released and retaken on this connection; other
-- workers cannot see those tasks before the commit). Rows with finished_task_id set report a
-- finished attempt; the others are claimed steps, as claim_tasks returns them.
CREATE OR REPLACE FUNCTION baton.finish_and_claim(
    worker text, task_ids bigint[], attempts int[], succeeded boolean[], results jsonb[],
    errors text[], retry_delays_ms int[], started timestamptz[], finished timestamptz[],
    inputs jsonb[], unlock boolean[],
    max_tasks int, kinds text[] DEFAULT NULL, max_attempts int DEFAULT 4, retry_delay_ms int DEFAULT 1000)
RETURNS TABLE (finished_task_id bigint, finished_outcome text,
               task_id bigint, session_id text, kind text, phase int, step text, attempt int,
               budget_attempt int, total_phases int, input jsonb, previous jsonb, origin jsonb, lock_busy boolean)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    SELECT f.task_id, f.outcome, NULL::bigint, NULL::text, NULL::text, NULL::int, NULL::text, NULL::int,
           NULL::int, NULL::int, NULL::jsonb, NULL::jsonb, NULL::jsonb, NULL::boolean
    FROM baton.finish_tasks(worker, task_ids, attempts, succeeded, results, errors, retry_delays_ms,
                            started, finished, inputs, unlock) f;
    IF max_tasks > 0 THEN
        RETURN QUERY
        SELECT NULL::bigint, NULL::text, c.*
        FROM baton.claim_tasks(worker, max_tasks, kinds, max_attempts, retry_delay_ms) c;
    END IF;
END
$$;
