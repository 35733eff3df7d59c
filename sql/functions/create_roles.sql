-- `baton migrate --roles`: least privilege. Creates (when missing) two roles without login and
-- grants them what they need in this database (baton.grant_roles):
--   baton_client: for applications: calls the client functions (create, proceed, retry,
--     cancel, complete and fail a handed-off step, schedules) and reads sessions, steps,
--     attempts and schedules, but cannot write Baton's tables directly;
--   baton_worker: for worker processes (and `baton api`): everything in the schema.
-- Roles belong to the cluster, so every database shares them; give them to login roles with
-- GRANT baton_client TO app_user. Needs a role that may create roles (CREATEROLE).
CREATE OR REPLACE FUNCTION baton.create_roles() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['baton_client', 'baton_worker'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database's migrate created it at the same moment
            END;
        END IF;
    END LOOP;
    -- This database opts in: from now on every `baton migrate` renews the grants.
    GRANT USAGE ON SCHEMA baton TO baton_client, baton_worker;
    PERFORM baton.grant_roles();
END
$$;
