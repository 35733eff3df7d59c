-- Statistics that stay cheap however long the history (`baton stats`, GET /api/stats):
-- nothing here scans finished sessions or old attempts, and nothing adds work to a step.
-- - Active sessions are counted through their active task (the one-active-task index).
-- - Sessions that wait for a person (AWAITING_PROCEED, FAILED) are kept in a small table by a
--   trigger that fires only when a session enters or leaves those states.
-- - Finished sessions (COMPLETED, CANCELLED) are counted exactly while the table is small, and
--   estimated from the planner's statistics beyond that (and said to be estimated).
-- - Rates and durations read the last 15 minutes of attempts through a BRIN index (attempts
--   are appended in time order; a BRIN index costs next to nothing to keep). Every attempt
--   records its kind, so that read joins nothing: joining every task for the kind made it take
--   0.6 s with 100,000 attempts in the window and 3,000,000 tasks. Attempts from before this
--   migration keep kind NULL, except those of the last hour.

CREATE TABLE baton.parked_sessions (
    session_id text PRIMARY KEY REFERENCES baton.sessions (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    status     text NOT NULL CHECK (status IN ('AWAITING_PROCEED', 'FAILED')),
    since      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parked_sessions_kind ON baton.parked_sessions (kind, status);

INSERT INTO baton.parked_sessions (session_id, kind, status, since)
SELECT s.id, s.kind, s.status, s.updated_at FROM baton.sessions s WHERE s.status IN ('AWAITING_PROCEED', 'FAILED');

CREATE FUNCTION baton.track_parked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('AWAITING_PROCEED', 'FAILED') THEN
        INSERT INTO baton.parked_sessions AS p (session_id, kind, status) VALUES (NEW.id, NEW.kind, NEW.status)
        ON CONFLICT (session_id) DO UPDATE SET status = EXCLUDED.status, since = now();
    ELSE
        DELETE FROM baton.parked_sessions p WHERE p.session_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_track_parked AFTER UPDATE OF status ON baton.sessions
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          AND (OLD.status IN ('AWAITING_PROCEED', 'FAILED') OR NEW.status IN ('AWAITING_PROCEED', 'FAILED')))
    EXECUTE FUNCTION baton.track_parked();

CREATE INDEX attempts_finished ON baton.attempts USING brin (finished_at);

ALTER TABLE baton.attempts ADD COLUMN kind text;

UPDATE baton.attempts a SET kind = t.kind
FROM baton.tasks t
WHERE t.id = a.task_id AND a.finished_at > now() - interval '1 hour';

-- As in 0004, writing the attempt's kind.
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

-- As in 0007, writing the attempt's kind.
CREATE OR REPLACE FUNCTION baton.rescue_tasks(lock_grace_ms int DEFAULT 5000, stale_ms int DEFAULT 60000)
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

    INSERT INTO baton.attempts (task_id, attempt, session_id, kind, worker_id, outcome, started_at, error)
    SELECT d.id, d.attempt, d.session_id, d.kind, d.worker_id, 'RESCUED', d.started_at,
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


-- What the estimates of finished sessions per kind come from (refreshed by autovacuum's analyze).
CREATE STATISTICS baton.sessions_kind_status (mcv) ON kind, status FROM baton.sessions;

-- Everything `baton stats` shows, as one JSON document (see docs/design.md, "Statistics").
-- `exact_below`: up to this many sessions in the table (the planner's count), finished sessions
-- are counted exactly; above, estimated.
CREATE FUNCTION baton.stats(exact_below bigint DEFAULT 100000) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET work_mem = '64MB'  -- the duration percentiles sort the window's attempts in memory
AS $$
DECLARE
    total real := (SELECT c.reltuples FROM pg_class c WHERE c.oid = 'baton.sessions'::regclass);
    estimate boolean := total > exact_below;
    finished jsonb;
    kinds jsonb;
BEGIN
    IF estimate THEN
        SELECT coalesce(jsonb_agg(jsonb_build_object('kind', m.v[1], 'status', m.v[2],
                                                     'n', round(m.f * total)::bigint)), '[]')
        INTO finished
        FROM pg_stats_ext e
        CROSS JOIN LATERAL (
            SELECT ARRAY[e.most_common_vals[i][1], e.most_common_vals[i][2]] AS v, e.most_common_freqs[i] AS f
            FROM generate_subscripts(e.most_common_vals, 1) i
        ) m
        WHERE e.schemaname = 'baton' AND e.statistics_name = 'sessions_kind_status'
          AND m.v[2] IN ('COMPLETED', 'CANCELLED');
    ELSE
        SELECT coalesce(jsonb_agg(jsonb_build_object('kind', x.kind, 'status', x.status, 'n', x.n)), '[]')
        INTO finished
        FROM (SELECT s.kind, s.status, count(*) AS n FROM baton.sessions s
              WHERE s.status IN ('COMPLETED', 'CANCELLED') GROUP BY 1, 2) x;
    END IF;

    WITH counts AS (
        -- Queued and running sessions, through their one active task.
        SELECT s.kind, s.status, count(*) AS n
        FROM baton.tasks t JOIN baton.sessions s ON s.id = t.session_id
        WHERE t.status IN ('PENDING', 'RUNNING')
        GROUP BY 1, 2
        UNION ALL
        SELECT p.kind, p.status, count(*) FROM baton.parked_sessions p GROUP BY 1, 2
        UNION ALL
        SELECT f ->> 'kind', f ->> 'status', (f ->> 'n')::bigint FROM jsonb_array_elements(finished) f
    ), recent AS (
        SELECT a.kind,
               count(*) FILTER (WHERE a.outcome = 'SUCCEEDED' AND a.finished_at > now() - interval '1 minute') AS ok1,
               count(*) FILTER (WHERE a.outcome = 'SUCCEEDED' AND a.finished_at > now() - interval '5 minutes') AS ok5,
               count(*) FILTER (WHERE a.outcome = 'SUCCEEDED') AS ok15,
               count(*) FILTER (WHERE a.outcome = 'FAILED') AS failed15,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.finished_at - a.started_at))
                   FILTER (WHERE a.outcome IN ('SUCCEEDED', 'FAILED')) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM a.finished_at - a.started_at))
                   FILTER (WHERE a.outcome IN ('SUCCEEDED', 'FAILED')) AS p95
        FROM baton.attempts a
        WHERE a.finished_at > now() - interval '15 minutes' AND a.kind IS NOT NULL
        GROUP BY a.kind
    ), waiting AS (
        -- Ready steps; a keyed session's first step that waits for its key's running one is
        -- held on purpose, not waiting for a worker.
        SELECT t.kind, extract(epoch FROM now() - min(t.run_at)) AS oldest, count(*) AS ready
        FROM baton.tasks t
        WHERE t.status = 'PENDING' AND t.run_at <= now()
          AND (t.queued_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM baton.sessions s WHERE s.kind = t.kind AND s.key = t.queued_key
                  AND s.status IN ('THINKING', 'EXECUTING', 'INTEGRATING', 'AWAITING_PROCEED')))
        GROUP BY t.kind
    ), names AS (
        SELECT c.kind FROM counts c UNION SELECT r.kind FROM recent r UNION SELECT w.kind FROM waiting w
        UNION SELECT x.kind FROM baton.watches x UNION SELECT x.kind FROM baton.schedules x
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'kind', n.kind,
               'sessions', coalesce((SELECT jsonb_object_agg(c.status, c.n) FROM counts c WHERE c.kind = n.kind), '{}'),
               'stepsPerMinute', jsonb_build_object(
                   '1m', coalesce(r.ok1, 0), '5m', round(coalesce(r.ok5, 0) / 5.0, 1), '15m', round(coalesce(r.ok15, 0) / 15.0, 1)),
               'failureRate', CASE WHEN coalesce(r.ok15, 0) + coalesce(r.failed15, 0) = 0 THEN NULL
                                   ELSE round(r.failed15::numeric / (r.ok15 + r.failed15), 4) END,
               'stepSeconds', jsonb_build_object('p50', round(r.p50::numeric, 4), 'p95', round(r.p95::numeric, 4)),
               'readySteps', coalesce(w.ready, 0),
               'oldestReadySeconds', round(w.oldest::numeric, 3),
               'atGate', coalesce((SELECT sum(c.n) FROM counts c WHERE c.kind = n.kind AND c.status = 'AWAITING_PROCEED'), 0))
             ORDER BY n.kind), '[]')
    INTO kinds
    FROM names n LEFT JOIN recent r ON r.kind = n.kind LEFT JOIN waiting w ON w.kind = n.kind;

    RETURN jsonb_build_object(
        'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'finishedEstimated', estimate,
        'kinds', kinds,
        'watches', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'table', w.source_name, 'kind', w.kind, 'keyColumn', w.key_column, 'columns', to_jsonb(w.columns),
                        'phases', w.phases,
                        'queued', (SELECT count(*) FROM baton.tasks t WHERE t.kind = w.kind AND t.queued_key IS NOT NULL
                                                                       AND t.status = 'PENDING'))
                        ORDER BY w.source_name, w.kind), '[]')
                    FROM baton.watches w),
        'schedules', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                          'name', s.name, 'kind', s.kind, 'cron', s.cron, 'timeZone', s.time_zone,
                          'everySeconds', s.every_ms / 1000.0,
                          'nextRunAt', to_char(s.next_due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                          'lastRunAt', to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                          'lastRun', l.outcome, 'lastSession', l.session_id, 'lastSessionStatus', ls.status)
                          ORDER BY s.name), '[]')
                      FROM baton.schedules s
                      LEFT JOIN LATERAL (SELECT r.* FROM baton.schedule_runs r WHERE r.schedule = s.name
                                         ORDER BY r.due_at DESC LIMIT 1) l ON true
                      LEFT JOIN baton.sessions ls ON ls.id = l.session_id));
END
$$;
