-- Rejects a status change the table does not allow, from any client; keeps version/updated_at.
CREATE OR REPLACE FUNCTION baton.sessions_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status
       AND NOT EXISTS (SELECT 1 FROM baton.transitions t
                       WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
        RAISE EXCEPTION 'invalid status change for session %: % -> %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'BT422',
                  HINT = 'Use baton.proceed, baton.retry or baton.cancel; the allowed changes are listed in baton.transitions.';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.total_phases IS DISTINCT FROM OLD.total_phases THEN
        RAISE EXCEPTION 'session %: id and total_phases cannot change', OLD.id USING ERRCODE = 'BT422';
    END IF;
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER sessions_guard BEFORE UPDATE ON baton.sessions
    FOR EACH ROW EXECUTE FUNCTION baton.sessions_guard();
