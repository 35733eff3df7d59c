-- Wake-up calls on baton_task, sent by statement-level triggers: one NOTIFY per statement
-- (never per row: notifying commits are serialized), carrying ids only: a comma-separated list
-- of the tasks the statement left ready, or '' when it left more than 100 (then listeners
-- rescan). NOTIFY is a hint; the tables are the truth.
-- A step queued for later (a retry after backoff, whoever failed it: a worker, fail_task, or
-- the rescuer) announces when it becomes ready: 'at:<epoch ms>', so every worker sets a timer
-- instead of waiting for its safety poll.
CREATE OR REPLACE FUNCTION baton.notify_ready_tasks() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n int;
    ids text;
    later timestamptz;
BEGIN
    SELECT count(*), string_agg(x.id::text, ',') INTO n, ids
    FROM (SELECT r.id FROM new_rows r WHERE r.status = 'PENDING' AND r.run_at <= now() LIMIT 101) x;
    IF n > 0 THEN
        PERFORM pg_notify('baton_task', CASE WHEN n > 100 THEN '' ELSE ids END);
    END IF;
    SELECT min(r.run_at) INTO later FROM new_rows r WHERE r.status = 'PENDING' AND r.run_at > now();
    IF later IS NOT NULL THEN
        PERFORM pg_notify('baton_task', 'at:' || floor(extract(epoch FROM later) * 1000)::bigint);
    END IF;
    RETURN NULL;
END
$$;

-- Transition tables allow one event per trigger, hence two triggers.
CREATE OR REPLACE TRIGGER tasks_notify_insert AFTER INSERT ON baton.tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_ready_tasks();

CREATE OR REPLACE TRIGGER tasks_notify_update AFTER UPDATE ON baton.tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_ready_tasks();
