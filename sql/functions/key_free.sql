-- The claim's gate for a keyed session's first step: true when no other session of the key
-- runs (or waits at a gate). It looks with a fresh snapshot, under a per-key transaction lock
-- that a retry of a keyed session takes too, so a claim and a retry never both go ahead.
CREATE OR REPLACE FUNCTION baton.key_free(kind text, key text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(baton.lock_class() + 2, hashtext(key_free.kind || '/' || key_free.key)) THEN
        RETURN false;
    END IF;
    RETURN NOT EXISTS (SELECT 1 FROM baton.sessions s
                       WHERE s.kind = key_free.kind AND s.key = key_free.key
                         AND s.status IN ('THINKING', 'EXECUTING', 'INTEGRATING', 'AWAITING_PROCEED'));
END
$$;
