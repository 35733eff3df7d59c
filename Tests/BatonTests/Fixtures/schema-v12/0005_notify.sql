-- Wake-up calls. One NOTIFY per statement (never per row: notifying commits are serialized),
-- carrying ids only: a comma-separated list, or '' when a statement touched more than 100
-- rows (then listeners rescan). NOTIFY is a hint; the tables are the truth.

CREATE FUNCTION baton.notify_ready_tasks() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n int;
    ids text;
BEGIN
    SELECT count(*), string_agg(x.id::text, ',') INTO n, ids
    FROM (SELECT r.id FROM new_rows r WHERE r.status = 'PENDING' AND r.run_at <= now() LIMIT 101) x;
    IF n > 0 THEN
        PERFORM pg_notify('baton_task', CASE WHEN n > 100 THEN '' ELSE ids END);
    END IF;
    RETURN NULL;
END
$$;

-- Transition tables allow one event per trigger, hence two triggers.
CREATE TRIGGER tasks_notify_insert AFTER INSERT ON baton.tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_ready_tasks();
CREATE TRIGGER tasks_notify_update AFTER UPDATE ON baton.tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_ready_tasks();

CREATE FUNCTION baton.notify_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n int;
    ids text;
BEGIN
    SELECT count(*), string_agg(x.id, ',') INTO n, ids
    FROM (SELECT r.id FROM new_rows r LIMIT 101) x;
    IF n > 0 THEN
        PERFORM pg_notify('baton_session', CASE WHEN n > 100 THEN '' ELSE ids END);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_notify_insert AFTER INSERT ON baton.sessions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_sessions();
CREATE TRIGGER sessions_notify_update AFTER UPDATE ON baton.sessions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_sessions();
