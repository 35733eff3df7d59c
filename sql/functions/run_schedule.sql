-- run-now: a session of the schedule at once, whatever its due times (recorded as 'manual').
CREATE OR REPLACE FUNCTION baton.run_schedule(name text) RETURNS baton.sessions
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
