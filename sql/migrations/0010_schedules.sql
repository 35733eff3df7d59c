-- Schedules: a session of `kind` at every due time, exactly once across any number of workers,
-- processes and restarts. baton.schedule_runs holds one row per schedule and due time (its
-- primary key), which makes "once" a constraint; the policies (one catch-up run, skipped slots,
-- run-now) are told in sql/functions/fire_schedule.sql.

CREATE TABLE baton.schedules (
    name           text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.:-]{1,100}$'),
    kind           text NOT NULL CHECK (kind ~ '^[A-Za-z0-9_.:-]{1,100}$'),
    input          jsonb NOT NULL DEFAULT '{}',
    phases         int NOT NULL DEFAULT 1 CHECK (phases BETWEEN 1 AND 1000),
    auto_phases    boolean NOT NULL DEFAULT true,
    -- Exactly one of: a fixed period from `anchor`, or a cron expression in `time_zone`.
    every_ms       bigint CHECK (every_ms >= 1000),
    cron           text,
    time_zone      text NOT NULL DEFAULT 'UTC',
    anchor         timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    -- The next due time; NULL until a scheduler has computed it (right after every change).
    next_due       timestamptz,
    -- Sessions of this schedule that may still run: what the skip rule looks at.
    live_sessions  text[] NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((every_ms IS NULL) <> (cron IS NULL))
);

CREATE TABLE baton.schedule_runs (
    schedule    text NOT NULL REFERENCES baton.schedules (name) ON DELETE CASCADE,
    -- The slot this run stands for (a catch-up: the first missed one); run-now: when asked.
    due_at      timestamptz NOT NULL,
    -- started: a session was created; skipped: an earlier run still went; manual: run-now.
    outcome     text NOT NULL CHECK (outcome IN ('started', 'skipped', 'manual')),
    -- How many slots this run covers (more than 1: a catch-up), and the last of them.
    slots       int NOT NULL DEFAULT 1 CHECK (slots >= 1),
    last_slot   timestamptz,
    session_id  text,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule, due_at)
);
