-- Schedules: a session of `kind` at every due time, exactly once across any number of workers,
-- processes and restarts. The database decides: baton.schedule_runs holds one row per schedule
-- and due time (its primary key), and this function moves a schedule's next_due on only from
-- the value the caller read. The due-time arithmetic (cron in a time zone, fixed periods) is
-- BatonCore's ScheduleRule, run by the scheduler service in every worker process.
--
-- Policies:
-- - Slots missed while no scheduler ran make ONE catch-up run: it stands for the first missed
--   slot (due_at) and counts the slots it covers (slots, last_slot); the schedule then goes on
--   from the first slot after now (the caller passes that as `next_due`).
-- - A slot that comes due while an earlier run of the schedule has not finished (not COMPLETED,
--   FAILED or CANCELLED) is skipped and recorded (outcome 'skipped', with the session that was
--   still going).
-- - run-now (baton.run_schedule) creates a session at once, whatever the schedule says.
--
-- For a scheduler: the slot `due` of schedule `name` came due. Exactly once per (schedule, due):
-- only a caller that read next_due = `due` does anything, and schedule_runs refuses a second
-- row. Creates the session (or records the skip), and moves next_due to `next_due`.
-- Returns started | skipped (an earlier run still goes) | stale (another scheduler did it, or
-- the schedule changed since it was read).
CREATE OR REPLACE FUNCTION baton.fire_schedule(name text, due timestamptz, slots int, last_slot timestamptz, next_due timestamptz)
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
