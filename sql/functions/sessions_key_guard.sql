-- A FAILED keyed session may be retried only while it is its key's newest session: a newer one
-- exists for a later change of the row and processes the newer row (and two runs of one key
-- must never overlap). Takes the key's lock, as the claim's gate does.
CREATE OR REPLACE FUNCTION baton.sessions_key_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    newer text;
BEGIN
    PERFORM pg_advisory_xact_lock(baton.lock_class() + 2, hashtext(NEW.kind || '/' || NEW.key));
    SELECT s.id INTO newer FROM baton.sessions s
    WHERE s.kind = NEW.kind AND s.key = NEW.key AND s.id <> NEW.id AND s.created_at > OLD.created_at
    ORDER BY s.created_at DESC
    LIMIT 1;
    IF newer IS NOT NULL THEN
        RAISE EXCEPTION 'session % was superseded by session %, created for a later change of the same row (key %); retry is allowed only for the newest session of a key',
            quote_literal(NEW.id), quote_literal(newer), quote_literal(NEW.key)
            USING ERRCODE = 'BT409', HINT = 'The newer session processes the newest row; retry it instead if it failed.';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER sessions_key_guard BEFORE UPDATE OF status ON baton.sessions
    FOR EACH ROW
    WHEN (OLD.key IS NOT NULL AND OLD.status = 'FAILED' AND NEW.status IN ('THINKING', 'EXECUTING', 'INTEGRATING'))
    EXECUTE FUNCTION baton.sessions_key_guard();
