-- Everything `baton stats` shows, as one JSON document (see docs/design.md, "Statistics").
-- `exact_below`: up to this many sessions in the table (the planner's count), finished sessions
-- are counted exactly; above, estimated.
--
-- It stays cheap however long the history: nothing here scans finished sessions or old
-- attempts, and nothing adds work to a step.
-- - Active sessions are counted through their active task (the one-active-task index).
-- - Sessions that wait for a person (AWAITING_PROCEED, FAILED) are read from
--   baton.parked_sessions, which a trigger keeps (baton.track_parked).
-- - Finished sessions (COMPLETED, CANCELLED) are counted exactly while the table is small, and
--   estimated from the planner's statistics beyond that (the sessions_kind_status statistics
--   object), and said to be estimated.
-- - Rates and durations read the last 15 minutes of attempts through a BRIN index on
--   finished_at. Every attempt records its kind, so that read joins nothing (joining every task
--   for the kind took 0.6 s with 100,000 attempts in the window and 3,000,000 tasks).
CREATE OR REPLACE FUNCTION baton.stats(exact_below bigint DEFAULT 100000) RETURNS jsonb
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
