-- Creates a session (id: a random UUID when NULL) and queues its phase 1 THINK step, in one
-- transaction. BT400 for bad arguments, BT409 when the id exists. auto_steps and auto_phases
-- left NULL take the deployment's defaults (baton.session_defaults).
CREATE OR REPLACE FUNCTION baton.create_session(
    phases int, input jsonb, id text DEFAULT NULL, kind text DEFAULT 'default',
    auto_steps boolean DEFAULT NULL, auto_phases boolean DEFAULT NULL)
RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    new_id text := coalesce(create_session.id, gen_random_uuid()::text);
    s baton.sessions;
BEGIN
    IF phases IS NULL OR phases < 1 OR phases > 1000 THEN
        RAISE EXCEPTION 'phases must be between 1 and 1000 (got %)', coalesce(phases::text, 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    IF length(new_id) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'session id must be 1 to 200 characters (got %)', length(new_id) USING ERRCODE = 'BT400';
    END IF;
    IF kind IS NULL OR kind !~ '^[A-Za-z0-9_.:-]{1,100}$' THEN
        RAISE EXCEPTION 'kind must be 1 to 100 letters, digits or _.:- (got %)', coalesce(quote_literal(kind), 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    INSERT INTO baton.sessions AS t (id, kind, total_phases, auto_steps, auto_phases, input)
    SELECT new_id, create_session.kind, phases, coalesce(create_session.auto_steps, d.auto_steps, true), coalesce(create_session.auto_phases, d.auto_phases, false),
           coalesce(create_session.input, '{}'::jsonb)
    FROM (SELECT true) one LEFT JOIN baton.session_defaults d ON true
    ON CONFLICT ON CONSTRAINT sessions_pkey DO NOTHING
    RETURNING t.* INTO s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'session % already exists', new_id
            USING ERRCODE = 'BT409', HINT = 'Choose another id, or omit it to get a generated one.';
    END IF;
    INSERT INTO baton.tasks (session_id, kind, phase, step) VALUES (s.id, s.kind, 1, 'THINK');
    RETURN s;
END
$$;
