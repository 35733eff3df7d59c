-- Statistics that stay cheap however long the history (`baton stats`, GET /api/stats; the
-- function is sql/functions/stats.sql):
-- - Sessions that wait for a person (AWAITING_PROCEED, FAILED) are kept in a small table by a
--   trigger that fires only when a session enters or leaves those states.
-- - Rates and durations read the last 15 minutes of attempts through a BRIN index (attempts
--   are appended in time order; a BRIN index costs next to nothing to keep). Every attempt
--   records its kind, so that read joins nothing: joining every task for the kind made it take
--   0.6 s with 100,000 attempts in the window and 3,000,000 tasks. Attempts from before this
--   migration keep kind NULL, except those of the last hour.
-- - Finished sessions are estimated from the planner's statistics on large tables.

CREATE TABLE baton.parked_sessions (
    session_id text PRIMARY KEY REFERENCES baton.sessions (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    status     text NOT NULL CHECK (status IN ('AWAITING_PROCEED', 'FAILED')),
    since      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parked_sessions_kind ON baton.parked_sessions (kind, status);

-- The trigger that keeps this table (sql/functions/track_parked.sql) is created at the end of
-- this transaction, with the function files: the lock keeps every session change out until
-- then, so none is missed between this copy and the trigger.
LOCK TABLE baton.sessions IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO baton.parked_sessions (session_id, kind, status, since)
SELECT s.id, s.kind, s.status, s.updated_at FROM baton.sessions s WHERE s.status IN ('AWAITING_PROCEED', 'FAILED');

CREATE INDEX attempts_finished ON baton.attempts USING brin (finished_at);

ALTER TABLE baton.attempts ADD COLUMN kind text;

UPDATE baton.attempts a SET kind = t.kind
FROM baton.tasks t
WHERE t.id = a.task_id AND a.finished_at > now() - interval '1 hour';

-- What the estimates of finished sessions per kind come from (refreshed by autovacuum's analyze).
CREATE STATISTICS baton.sessions_kind_status (mcv) ON kind, status FROM baton.sessions;
