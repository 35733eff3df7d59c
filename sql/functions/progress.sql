-- A session's progress as the API and the CLI show it, for clients that only speak SQL:
--   SELECT baton.progress('report-1') ->> 'status';
-- Raises BT404 for an unknown session. Reads without locking.
CREATE OR REPLACE FUNCTION baton.progress(session_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    s baton.sessions;
BEGIN
    SELECT * INTO s FROM baton.sessions t WHERE t.id = progress.session_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown session %', quote_literal(session_id)
            USING ERRCODE = 'BT404', HINT = 'List sessions with `baton session list`.';
    END IF;
    RETURN baton.session_progress(s);
END
$$;
