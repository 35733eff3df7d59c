-- A new session starts at the beginning: PENDING, phase 1, THINK.
CREATE OR REPLACE FUNCTION baton.sessions_insert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'PENDING' OR NEW.phase <> 1 OR NEW.step IS DISTINCT FROM 'THINK' THEN
        RAISE EXCEPTION 'invalid new session %: a session starts PENDING at phase 1, step THINK (got %)',
            NEW.id, NEW.status USING ERRCODE = 'BT422', HINT = 'Create sessions with baton.create_session.';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER sessions_insert_guard BEFORE INSERT ON baton.sessions
    FOR EACH ROW EXECUTE FUNCTION baton.sessions_insert_guard();
