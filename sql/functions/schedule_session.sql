-- A session for a schedule: its kind, phases and input, with `origin` {"schedule": …}.
CREATE OR REPLACE FUNCTION baton.schedule_session(s baton.schedules, detail jsonb) RETURNS baton.sessions
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
