-- Worker liveness: a heartbeat per worker (baton.heartbeat), so that the rescuer can tell a dead
-- worker from one that only lost its connection for a moment (sql/functions/rescue_tasks.sql).

CREATE TABLE baton.workers (
    id           text PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    -- The backend of the worker's claim connection, which holds its session locks.
    backend_pid  int
);

-- The rescuer of 0004 took no arguments; sql/functions/rescue_tasks.sql replaces it with one
-- that takes the liveness limits. A database that had it loses it here (a fresh one never had it).
DROP FUNCTION IF EXISTS baton.rescue_tasks();
