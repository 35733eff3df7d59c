-- Creates one session per input in one statement (one NOTIFY per channel for the whole batch),
-- with generated ids. The set-based twin of create_session, for bulk loads; the same defaults.
CREATE OR REPLACE FUNCTION baton.create_sessions(
    phases int, inputs jsonb[], kind text DEFAULT 'default',
    auto_steps boolean DEFAULT NULL, auto_phases boolean DEFAULT NULL)
RETURNS SETOF baton.sessions
LANGUAGE plpgsql AS $$
BEGIN
    IF phases IS NULL OR phases < 1 OR phases > 1000 THEN
        RAISE EXCEPTION 'phases must be between 1 and 1000 (got %)', coalesce(phases::text, 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    IF kind IS NULL OR kind !~ '^[A-Za-z0-9_.:-]{1,100}$' THEN
        RAISE EXCEPTION 'kind must be 1 to 100 letters, digits or _.:- (got %)', coalesce(quote_literal(kind), 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    RETURN QUERY
    WITH created AS (
        INSERT INTO baton.sessions (id, kind, total_phases, auto_steps, auto_phases, input)
        SELECT gen_random_uuid()::text, create_sessions.kind, phases, coalesce(create_sessions.auto_steps, d.auto_steps, true),
               coalesce(create_sessions.auto_phases, d.auto_phases, false), coalesce(i.input, '{}'::jsonb)
        FROM unnest(inputs) WITH ORDINALITY i(input, n)
        LEFT JOIN baton.session_defaults d ON true
        ORDER BY i.n
        RETURNING *
    ), queued AS (
        INSERT INTO baton.tasks (session_id, kind, phase, step)
        SELECT c.id, c.kind, 1, 'THINK' FROM created c
    )
    SELECT * FROM created;
END
$$;
