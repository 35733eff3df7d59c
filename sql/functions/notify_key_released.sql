-- When a keyed session stops running, the key's queued session may start: announce its task.
CREATE OR REPLACE FUNCTION baton.notify_key_released() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    next_task bigint;
BEGIN
    SELECT t.id INTO next_task FROM baton.tasks t
    WHERE t.kind = NEW.kind AND t.queued_key = NEW.key AND t.status = 'PENDING';
    IF next_task IS NOT NULL THEN
        PERFORM pg_notify('baton_task', next_task::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER sessions_key_released AFTER UPDATE OF status ON baton.sessions
    FOR EACH ROW
    WHEN (NEW.key IS NOT NULL
          AND OLD.status IN ('THINKING', 'EXECUTING', 'INTEGRATING', 'AWAITING_PROCEED')
          AND NEW.status IN ('COMPLETED', 'FAILED', 'CANCELLED'))
    EXECUTE FUNCTION baton.notify_key_released();
