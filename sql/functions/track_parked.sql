-- Keeps baton.parked_sessions, the sessions that wait for a person (AWAITING_PROCEED, FAILED),
-- for the statistics: the trigger fires only when a session enters or leaves those states.
CREATE OR REPLACE FUNCTION baton.track_parked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('AWAITING_PROCEED', 'FAILED') THEN
        INSERT INTO baton.parked_sessions AS p (session_id, kind, status) VALUES (NEW.id, NEW.kind, NEW.status)
        ON CONFLICT (session_id) DO UPDATE SET status = EXCLUDED.status, since = now();
    ELSE
        DELETE FROM baton.parked_sessions p WHERE p.session_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER sessions_track_parked AFTER UPDATE OF status ON baton.sessions
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          AND (OLD.status IN ('AWAITING_PROCEED', 'FAILED') OR NEW.status IN ('AWAITING_PROCEED', 'FAILED')))
    EXECUTE FUNCTION baton.track_parked();
