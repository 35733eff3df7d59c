-- Rejects, from any client, a status change that baton.transitions does not list, and a change
-- of id or total_phases. The trigger's WHEN clause does the check in the executor, so an
-- allowed change (every change Baton's own functions make) calls no function at all.
CREATE OR REPLACE FUNCTION baton.sessions_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT baton.is_allowed_transition(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'invalid status change for session %: % -> %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'BT422',
                  HINT = 'Use baton.proceed, baton.retry or baton.cancel; the allowed changes are listed in baton.transitions.';
    END IF;
    RAISE EXCEPTION 'session %: id and total_phases cannot change', OLD.id USING ERRCODE = 'BT422';
END
$$;

CREATE OR REPLACE TRIGGER sessions_guard BEFORE UPDATE ON baton.sessions
    FOR EACH ROW
    WHEN ((NEW.status IS DISTINCT FROM OLD.status AND NOT baton.is_allowed_transition(OLD.status, NEW.status))
          OR NEW.id IS DISTINCT FROM OLD.id OR NEW.total_phases IS DISTINCT FROM OLD.total_phases)
    EXECUTE FUNCTION baton.sessions_guard();
