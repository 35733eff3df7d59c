-- Schedules: a session of `kind` at every due time, exactly once across any number of workers,
-- processes and restarts. The database decides: baton.schedule_runs holds one row per schedule
-- and due time (its primary key), and baton.fire_schedule moves a schedule's next_due on only
-- from the value the caller read. The due-time arithmetic (cron in a time zone, fixed periods)
-- is BatonCore's ScheduleRule, run by the scheduler service in every worker process.
--
-- Policies:
-- - Slots missed while no scheduler ran make ONE catch-up run: it stands for the first missed
--   slot (due_at) and counts the slots it covers (slots, last_slot); the schedule then goes on
--   from the first slot after now.
-- - A slot that comes due while an earlier run of the schedule has not finished (not COMPLETED,
--   FAILED or CANCELLED) is skipped and recorded (outcome 'skipped', with the session that was
--   still going).
-- - run-now (baton.run_schedule) creates a session at once, whatever the schedule says.

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

-- Every change of a schedule wakes the schedulers: the names (they hold no commas), or '' when
-- more than 60 changed (names are up to 100 characters; a payload must stay under 8000 bytes).
CREATE FUNCTION baton.notify_schedules() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n int;
    names text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT count(*), string_agg(r.name, ',') INTO n, names FROM (SELECT o.name FROM old_rows o LIMIT 61) r;
    ELSE
        SELECT count(*), string_agg(r.name, ',') INTO n, names FROM (SELECT x.name FROM new_rows x LIMIT 61) r;
    END IF;
    IF n > 0 THEN
        PERFORM pg_notify('baton_schedule', CASE WHEN n > 60 THEN '' ELSE names END);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER schedules_notify_insert AFTER INSERT ON baton.schedules
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_schedules();
CREATE TRIGGER schedules_notify_update AFTER UPDATE ON baton.schedules
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_schedules();
CREATE TRIGGER schedules_notify_delete AFTER DELETE ON baton.schedules
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_schedules();

-- Checks what every schedule has: name, kind, phases, a known time zone.
CREATE FUNCTION baton.check_schedule(name text, kind text, phases int, time_zone text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF name IS NULL OR name !~ '^[A-Za-z0-9_.:-]{1,100}$' THEN
        RAISE EXCEPTION 'schedule name must be 1 to 100 letters, digits or _.:- (got %)', coalesce(quote_literal(name), 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    PERFORM baton.check_kind_and_phases(kind, phases);
    IF time_zone IS NULL OR NOT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = time_zone) THEN
        RAISE EXCEPTION 'unknown time zone %', coalesce(quote_literal(time_zone), 'NULL')
            USING ERRCODE = 'BT400', HINT = 'Use an IANA name such as UTC, Europe/Berlin or America/New_York.';
    END IF;
END
$$;

-- Creates or replaces a schedule. One of every_ms / cron is set. A schedule whose period is
-- unchanged keeps its anchor, so running the same call at every deploy does not shift it.
CREATE FUNCTION baton.put_schedule(name text, every_ms bigint, cron text, kind text, input jsonb, phases int,
                                   time_zone text, auto_phases boolean)
RETURNS baton.schedules
LANGUAGE plpgsql AS $$
DECLARE
    s baton.schedules;
BEGIN
    INSERT INTO baton.schedules AS x (name, kind, input, phases, auto_phases, every_ms, cron, time_zone)
    VALUES (name, kind, coalesce(input, '{}'), phases, coalesce(auto_phases, true), every_ms, cron, time_zone)
    ON CONFLICT ON CONSTRAINT schedules_pkey DO UPDATE
        SET kind = EXCLUDED.kind, input = EXCLUDED.input, phases = EXCLUDED.phases,
            auto_phases = EXCLUDED.auto_phases, every_ms = EXCLUDED.every_ms, cron = EXCLUDED.cron,
            time_zone = EXCLUDED.time_zone,
            anchor = CASE WHEN x.every_ms IS NOT DISTINCT FROM EXCLUDED.every_ms THEN x.anchor ELSE EXCLUDED.anchor END,
            next_due = NULL, updated_at = now()
    RETURNING x.* INTO s;
    RETURN s;
END
$$;

-- A schedule with a fixed period (at least a second; days count as 24 hours; months and years
-- have no fixed length: use a cron expression). The first run is one period after creation.
CREATE FUNCTION baton.schedule(name text, every interval, kind text, input jsonb DEFAULT '{}', phases int DEFAULT 1,
                               auto_phases boolean DEFAULT true)
RETURNS baton.schedules
LANGUAGE plpgsql AS $$
DECLARE
    ms numeric;
BEGIN
    PERFORM baton.check_schedule(name, kind, phases, 'UTC');
    IF every IS NULL OR extract(month FROM every) <> 0 OR extract(year FROM every) <> 0 THEN
        RAISE EXCEPTION 'every must be a fixed period such as ''5 minutes'' or ''1 day'' (got %); months and years vary in length, use a cron expression for them',
            coalesce(quote_literal(every::text), 'NULL') USING ERRCODE = 'BT400';
    END IF;
    ms := extract(epoch FROM every) * 1000;
    IF ms < 1000 THEN
        RAISE EXCEPTION 'every must be at least 1 second (got %)', quote_literal(every::text) USING ERRCODE = 'BT400';
    END IF;
    RETURN baton.put_schedule(name, round(ms)::bigint, NULL, kind, input, phases, 'UTC', auto_phases);
END
$$;

-- A schedule from a standard 5-field cron expression (or @hourly, @daily, …) in a time zone.
-- A text that is no cron expression but reads as an interval ('5 minutes') makes a fixed-period
-- schedule, so the quoting of the second argument does not change what a call means.
CREATE FUNCTION baton.schedule(name text, cron text, kind text, input jsonb DEFAULT '{}', phases int DEFAULT 1,
                               time_zone text DEFAULT 'UTC', auto_phases boolean DEFAULT true)
RETURNS baton.schedules
LANGUAGE plpgsql AS $$
DECLARE
    checked text;
    cron_error text;
    period interval;
BEGIN
    PERFORM baton.check_schedule(name, kind, phases, time_zone);
    IF cron IS NULL THEN
        RAISE EXCEPTION 'a schedule needs a cron expression or a period (got NULL)' USING ERRCODE = 'BT400';
    END IF;
    BEGIN
        checked := baton.cron_check(cron);
    EXCEPTION WHEN SQLSTATE 'BT400' THEN
        GET STACKED DIAGNOSTICS cron_error = MESSAGE_TEXT;
    END;
    IF checked IS NOT NULL THEN
        RETURN baton.put_schedule(name, NULL, checked, kind, input, phases, time_zone, auto_phases);
    END IF;
    -- Only a text with a unit ('5 minutes', 'PT5M') or a clock ('00:05:00') reads as a period:
    -- a bare '5' is a cron expression with a field missing, not five seconds.
    IF cron ~ '[A-Za-z:]' AND cron !~ '^\s*@' THEN
        BEGIN
            period := cron::interval;
        EXCEPTION WHEN OTHERS THEN
            period := NULL;
        END;
    END IF;
    IF period IS NULL THEN
        RAISE EXCEPTION '%', cron_error
            USING ERRCODE = 'BT400', HINT = 'For a fixed period, pass an interval such as ''5 minutes''.';
    END IF;
    RETURN baton.schedule(name, period, kind, input, phases, auto_phases);
END
$$;

-- Removes a schedule and its run log; sessions it created run on.
CREATE FUNCTION baton.unschedule(name text) RETURNS baton.schedules
LANGUAGE plpgsql AS $$
DECLARE
    s baton.schedules;
BEGIN
    DELETE FROM baton.schedules x WHERE x.name = unschedule.name RETURNING x.* INTO s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown schedule %', coalesce(quote_literal(name), 'NULL')
            USING ERRCODE = 'BT404', HINT = 'List schedules with `baton schedule list`.';
    END IF;
    RETURN s;
END
$$;

-- A session for a schedule: its kind, phases and input, with `origin` {"schedule": …}.
CREATE FUNCTION baton.schedule_session(s baton.schedules, detail jsonb) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    created baton.sessions;
BEGIN
    INSERT INTO baton.sessions AS x (id, kind, total_phases, auto_steps, auto_phases, input, origin)
    VALUES (gen_random_uuid()::text, s.kind, s.phases, true, s.auto_phases, s.input,
            jsonb_build_object('schedule', jsonb_build_object('name', s.name) || detail))
    RETURNING x.* INTO created;
    INSERT INTO baton.tasks (session_id, kind, phase, step) VALUES (created.id, created.kind, 1, 'THINK');
    RETURN created;
END
$$;

-- For a scheduler: the slot `due` of schedule `name` came due. Exactly once per (schedule, due):
-- only a caller that read next_due = `due` does anything, and schedule_runs refuses a second
-- row. Creates the session (or records the skip), and moves next_due to `next_due`.
-- Returns started | skipped (an earlier run still goes) | stale (another scheduler did it, or
-- the schedule changed since it was read).
CREATE FUNCTION baton.fire_schedule(name text, due timestamptz, slots int, last_slot timestamptz, next_due timestamptz)
RETURNS TABLE (outcome text, session_id text)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    s baton.schedules;
    still text;
    still_status text;
    created baton.sessions;
BEGIN
    SELECT * INTO s FROM baton.schedules x WHERE x.name = fire_schedule.name FOR UPDATE SKIP LOCKED;
    IF NOT FOUND OR s.next_due IS DISTINCT FROM due THEN
        RETURN QUERY SELECT 'stale'::text, NULL::text;
        RETURN;
    END IF;
    -- Forget finished runs; any other blocks this slot.
    SELECT array_agg(x.id ORDER BY x.created_at) INTO s.live_sessions FROM baton.sessions x
    WHERE x.id = ANY (s.live_sessions) AND x.status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED');
    s.live_sessions := coalesce(s.live_sessions, '{}');
    IF cardinality(s.live_sessions) > 0 THEN
        SELECT x.id, x.status INTO still, still_status FROM baton.sessions x WHERE x.id = s.live_sessions[1];
        INSERT INTO baton.schedule_runs (schedule, due_at, outcome, slots, last_slot, note)
        VALUES (s.name, due, 'skipped', greatest(slots, 1), last_slot,
                format('skipped: session %s of this schedule was still %s', still, still_status));
        outcome := 'skipped';
        session_id := still;
    ELSE
        created := baton.schedule_session(s, jsonb_build_object(
            'dueAt', to_char(due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'slots', greatest(slots, 1),
            'lastSlotAt', to_char(coalesce(last_slot, due) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')));
        INSERT INTO baton.schedule_runs (schedule, due_at, outcome, slots, last_slot, session_id)
        VALUES (s.name, due, 'started', greatest(slots, 1), last_slot, created.id);
        s.live_sessions := s.live_sessions || created.id;
        outcome := 'started';
        session_id := created.id;
    END IF;
    UPDATE baton.schedules x SET next_due = fire_schedule.next_due, live_sessions = s.live_sessions WHERE x.name = s.name;
    RETURN NEXT;
END
$$;

-- For a scheduler: sets the first due time of a schedule that has none (new or changed).
CREATE FUNCTION baton.plan_schedule(name text, next_due timestamptz) RETURNS boolean
LANGUAGE sql AS $$
    UPDATE baton.schedules x SET next_due = plan_schedule.next_due
    WHERE x.name = plan_schedule.name AND x.next_due IS NULL
    RETURNING true
$$;

-- run-now: a session of the schedule at once, whatever its due times (recorded as 'manual').
CREATE FUNCTION baton.run_schedule(name text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.schedules;
    created baton.sessions;
    asked timestamptz := clock_timestamp();
BEGIN
    SELECT * INTO s FROM baton.schedules x WHERE x.name = run_schedule.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown schedule %', coalesce(quote_literal(name), 'NULL')
            USING ERRCODE = 'BT404', HINT = 'List schedules with `baton schedule list`.';
    END IF;
    created := baton.schedule_session(s, jsonb_build_object(
        'dueAt', to_char(asked AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'manual', true, 'slots', 1));
    INSERT INTO baton.schedule_runs (schedule, due_at, outcome, session_id) VALUES (s.name, asked, 'manual', created.id);
    UPDATE baton.schedules x SET live_sessions = x.live_sessions || created.id WHERE x.name = s.name;
    RETURN created;
END
$$;
