-- Advisory lock keys (two-int form): (lock_class, hashtext(session_id)) is held by the worker
-- connection that runs a step of that session; (lock_class + 1, n) are process-wide locks.
CREATE OR REPLACE FUNCTION baton.lock_class() RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 74261 $$;
