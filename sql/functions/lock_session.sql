-- Locks a session row and returns it, or raises BT404.
CREATE OR REPLACE FUNCTION baton.lock_session(session_id text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.sessions;
BEGIN
    SELECT * INTO s FROM baton.sessions t WHERE t.id = lock_session.session_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown session %', quote_literal(session_id)
            USING ERRCODE = 'BT404', HINT = 'List sessions with `baton session list`.';
    END IF;
    RETURN s;
END
$$;
