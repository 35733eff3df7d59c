-- Every change of a session bumps its version (what clients that wait for progress compare)
-- and updated_at. The worker's claim and finish set both in their own UPDATE, which skips this
-- trigger (WHEN): no function call per session on the hot path. Any other UPDATE, from any
-- client, gets them here.
CREATE OR REPLACE FUNCTION baton.sessions_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER sessions_touch BEFORE UPDATE ON baton.sessions
    FOR EACH ROW WHEN (NEW.version = OLD.version) EXECUTE FUNCTION baton.sessions_touch();
