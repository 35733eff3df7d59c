-- Renews the grants of baton_client and baton_worker in this database, when it opted in with
-- `baton migrate --roles` (baton.create_roles); `baton migrate` calls it after every run,
-- since re-applying a function file resets the function's attributes.
-- The client functions run with their owner's rights (SECURITY DEFINER, with a fixed
-- search_path so that no caller's objects stand in for Baton's) and only the two roles (and
-- the owner) may call them: this is how an application changes sessions without any right to
-- write Baton's tables. Watches fire baton.record_changes inside the application's own
-- statement, so it is one of them.
CREATE OR REPLACE FUNCTION baton.grant_roles() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    f regprocedure;
BEGIN
    IF (SELECT count(*) FROM pg_roles r WHERE r.rolname IN ('baton_client', 'baton_worker')) < 2 THEN
        RETURN;
    END IF;
    IF NOT has_schema_privilege('baton_client', 'baton', 'USAGE') THEN
        RETURN;  -- the roles exist for other databases; this one did not opt in
    END IF;
    GRANT ALL ON ALL TABLES IN SCHEMA baton TO baton_worker;
    GRANT ALL ON ALL SEQUENCES IN SCHEMA baton TO baton_worker;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA baton TO baton_worker;
    GRANT SELECT ON baton.sessions, baton.tasks, baton.attempts, baton.schedules, baton.schedule_runs,
                    baton.watches, baton.parked_sessions, baton.workers, baton.reviews TO baton_client;
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'baton'::regnamespace
          AND p.proname IN ('create_session', 'create_sessions', 'proceed', 'retry', 'cancel', 'complete_task', 'progress',
                            'fail_task', 'schedule', 'unschedule', 'run_schedule', 'record_changes')
    LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, pg_temp', f);
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO baton_client, baton_worker', f);
    END LOOP;
END
$$;
