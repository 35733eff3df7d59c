-- Baton schema: sessions, their step tasks, and one row per step attempt.
-- Applied by `baton migrate` (which records a checksum per file) or by `psql -f` in order.

CREATE SCHEMA IF NOT EXISTS baton;

-- Bookkeeping for `baton migrate`. Created here too so that `psql -f` yields the same schema.
CREATE TABLE IF NOT EXISTS baton.schema_migrations (
    version    int PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE baton.sessions (
    id           text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
    kind         text NOT NULL DEFAULT 'default' CHECK (kind ~ '^[A-Za-z0-9_.:-]{1,100}$'),
    status       text NOT NULL DEFAULT 'PENDING' CHECK (status IN
                   ('PENDING', 'THINKING', 'EXECUTING', 'INTEGRATING', 'AWAITING_PROCEED',
                    'COMPLETED', 'FAILED', 'CANCELLED')),
    total_phases int NOT NULL CHECK (total_phases BETWEEN 1 AND 1000),
    -- The position: the step that is queued or running, that waits at the gate, or that failed.
    -- NULL once COMPLETED.
    phase        int NOT NULL DEFAULT 1,
    step         text DEFAULT 'THINK' CHECK (step IN ('THINK', 'EXECUTE', 'INTEGRATE')),
    auto_steps   boolean NOT NULL DEFAULT true,
    auto_phases  boolean NOT NULL DEFAULT false,
    input        jsonb NOT NULL DEFAULT '{}',
    error        text,
    -- Bumped on every change: a cheap version for clients that wait for progress.
    version      bigint NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (phase BETWEEN 1 AND total_phases),
    CHECK ((step IS NULL) = (status = 'COMPLETED'))
) WITH (
    fillfactor = 80,  -- room for HOT updates: a session row changes on every step
    -- Queue tables churn: vacuum after 1% of rows change, not the default 20%, so dead rows
    -- do not pile up in the indexes that the claim and the rescuer scan.
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02
);

CREATE INDEX sessions_created ON baton.sessions (created_at, id);

CREATE TABLE baton.tasks (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id     text NOT NULL REFERENCES baton.sessions (id) ON DELETE CASCADE,
    kind           text NOT NULL,
    phase          int NOT NULL,
    step           text NOT NULL CHECK (step IN ('THINK', 'EXECUTE', 'INTEGRATE')),
    status         text NOT NULL DEFAULT 'PENDING' CHECK (status IN
                     ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    -- Attempts started so far; attempt_base is where the current retry budget began
    -- (a manual retry of a FAILED session gives the step a fresh budget).
    attempt        int NOT NULL DEFAULT 0,
    attempt_base   int NOT NULL DEFAULT 0,
    -- Retry settings of the worker that claimed it, so `baton.fail_task` applies the same.
    max_attempts   int,
    retry_delay_ms int,
    run_at         timestamptz NOT NULL DEFAULT now(),
    worker_id      text,
    started_at     timestamptz,
    finished_at    timestamptz,
    result         jsonb,
    error          text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, phase, step)
) WITH (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02
);

-- The claim reads only ready rows, oldest first.
CREATE INDEX tasks_ready ON baton.tasks (run_at, id) WHERE status = 'PENDING';
-- At most one queued or running task per session: exclusivity holds at the row level too.
-- The rescuer's scan of RUNNING rows uses it as well (one index fewer to maintain per claim).
CREATE UNIQUE INDEX tasks_one_active_per_session ON baton.tasks (session_id)
    WHERE status IN ('PENDING', 'RUNNING');

-- One row per attempt: the retry history and the debug trail.
CREATE TABLE baton.attempts (
    task_id     bigint NOT NULL REFERENCES baton.tasks (id) ON DELETE CASCADE,
    attempt     int NOT NULL,
    session_id  text NOT NULL,
    worker_id   text,
    -- SUCCEEDED, FAILED, RESCUED (its worker died), DISCARDED (the session was cancelled or
    -- the step finished elsewhere while it ran; the result was recorded, not applied).
    outcome     text NOT NULL CHECK (outcome IN ('SUCCEEDED', 'FAILED', 'RESCUED', 'DISCARDED')),
    started_at  timestamptz,
    finished_at timestamptz NOT NULL DEFAULT now(),
    input       jsonb,
    output      jsonb,
    error       text,
    PRIMARY KEY (task_id, attempt)
) WITH (autovacuum_vacuum_insert_scale_factor = 0.02);
