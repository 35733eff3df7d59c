-- Raises BT409 naming the current state and where the action is allowed.
CREATE OR REPLACE FUNCTION baton.wrong_state(s baton.sessions, what text, allowed text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'session % is %; % is allowed only %', quote_literal(s.id), s.status, what, allowed
        USING ERRCODE = 'BT409';
END
$$;
