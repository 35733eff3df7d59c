-- The worker's claim: takes up to `max_tasks` ready tasks for `worker`, in one statement (one
-- round trip), set-based inside. A task is claimed only when this connection also takes its
-- session's advisory lock, which it holds while the step runs and which dies with the
-- connection (that is how the rescuer knows a worker died). Rows whose session lock is busy are
-- returned with lock_busy = true and stay PENDING.
-- A keyed session's first step is claimed only while its key is free (baton.key_free); claiming
-- it ends its time as the key's queued session (queued_key), and a watch session reads its row
-- as it starts (baton.start_change). The session's origin (and, after a gate, its review) comes
-- back for the handler document.
CREATE OR REPLACE FUNCTION baton.claim_tasks(
    worker text, max_tasks int, kinds text[] DEFAULT NULL,
    max_attempts int DEFAULT 4, retry_delay_ms int DEFAULT 1000)
RETURNS TABLE (task_id bigint, session_id text, kind text, phase int, step text, attempt int,
               budget_attempt int, total_phases int, input jsonb, previous jsonb, origin jsonb, lock_busy boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    -- A transaction that only claims commits without waiting for its WAL flush: a later
    -- synchronous commit (the step's finish) flushes it first, and a claim lost in a database
    -- crash only means the step runs again, which a crash means anyway. Saves a disk flush on
    -- the way from a notification to the handler. A transaction that wrote before the claim
    -- (finish_and_claim) keeps its synchronous commit.
    IF txid_current_if_assigned() IS NULL THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    RETURN QUERY
    WITH picked AS MATERIALIZED (
        -- A worker of every kind walks the queue in order (tasks_ready).
        SELECT a.id, a.session_id FROM (
            SELECT k.id, k.session_id FROM baton.tasks k
            WHERE claim_tasks.kinds IS NULL
              AND k.status = 'PENDING' AND k.run_at <= now()
              AND CASE WHEN k.queued_key IS NULL THEN true ELSE baton.key_free(k.kind, k.queued_key) END
            ORDER BY k.run_at, k.id
            LIMIT claim_tasks.max_tasks
            FOR UPDATE SKIP LOCKED
        ) a
        UNION ALL
        -- A worker of some kinds walks each kind's own queue (tasks_ready_by_kind) and takes
        -- the oldest of what they offer, so tasks of other kinds, however many are queued
        -- ahead, are never read. With several kinds, rows offered but not taken stay locked
        -- until this transaction ends; other workers skip them meanwhile.
        SELECT b.id, b.session_id FROM (
            SELECT c.id, c.session_id FROM unnest(claim_tasks.kinds) q(kind)
            CROSS JOIN LATERAL (
                SELECT k.id, k.session_id, k.run_at FROM baton.tasks k
                WHERE k.kind = q.kind AND k.status = 'PENDING' AND k.run_at <= now()
                  AND CASE WHEN k.queued_key IS NULL THEN true ELSE baton.key_free(k.kind, k.queued_key) END
                ORDER BY k.run_at, k.id
                LIMIT claim_tasks.max_tasks
                FOR UPDATE SKIP LOCKED
            ) c
            ORDER BY c.run_at, c.id
            LIMIT claim_tasks.max_tasks
        ) b
    ), locked AS MATERIALIZED (
        -- Materialized: the lock function runs exactly once per picked row.
        SELECT p.id, pg_try_advisory_lock(baton.lock_class(), hashtext(p.session_id)) AS ok FROM picked p
    ), claimed AS (
        UPDATE baton.tasks k
        SET status = 'RUNNING', attempt = k.attempt + 1, worker_id = claim_tasks.worker,
            started_at = now(), finished_at = NULL, queued_key = NULL,
            max_attempts = claim_tasks.max_attempts, retry_delay_ms = claim_tasks.retry_delay_ms
        FROM locked l WHERE k.id = l.id AND l.ok
        RETURNING k.id, k.session_id, k.kind, k.phase, k.step, k.attempt, k.attempt - k.attempt_base AS budget_attempt
    ), started AS (
        UPDATE baton.sessions s
        SET status = 'THINKING', version = s.version + 1, updated_at = now(),
            origin = CASE WHEN s.origin ? 'change' THEN baton.start_change(s.origin) ELSE s.origin END
        FROM claimed c WHERE s.id = c.session_id AND s.status = 'PENDING'
        RETURNING s.id, s.origin
    )
    SELECT c.id, c.session_id, c.kind, c.phase, c.step, c.attempt, c.budget_attempt,
           s.total_phases, s.input,
           -- The first step of a session has no earlier results: no lookup.
           CASE WHEN c.phase = 1 AND c.step = 'THINK' THEN '{}'::jsonb ELSE
           coalesce((SELECT jsonb_object_agg(p.phase || '.' || p.step, p.result)
                     FROM baton.tasks p
                     WHERE p.session_id = c.session_id AND p.status = 'COMPLETED'
                       AND (p.phase = c.phase OR (p.phase < c.phase AND p.step = 'INTEGRATE'))),
                    '{}'::jsonb) END,
           -- A step after a gate gets the gate's review (the latest one given in its phase)
           -- among the document's extra members; looked up only where a gate can have been.
           CASE WHEN (s.auto_steps OR (c.phase = 1 AND c.step = 'THINK')) AND (s.auto_phases OR c.phase = 1)
           THEN coalesce(st.origin, s.origin) ELSE
           coalesce(coalesce(st.origin, s.origin), '{}'::jsonb) || coalesce(
               (SELECT jsonb_build_object('review', jsonb_build_object(
                           'phase', r.phase, 'step', r.step, 'reviewer', r.reviewer, 'note', r.note,
                           'payload', r.payload, 'at', r.created_at))
                FROM baton.reviews r WHERE r.session_id = c.session_id AND r.phase = c.phase
                ORDER BY r.id DESC LIMIT 1),
               '{}'::jsonb) END,
           false
    FROM claimed c JOIN baton.sessions s ON s.id = c.session_id
    LEFT JOIN started st ON st.id = c.session_id
    UNION ALL
    SELECT l.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true
    FROM locked l WHERE NOT l.ok;
END
$$;
