-- Every change of a schedule wakes the schedulers: the names (they hold no commas), or '' when
-- more than 60 changed (names are up to 100 characters; a payload must stay under 8000 bytes).
CREATE OR REPLACE FUNCTION baton.notify_schedules() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n int;
    names text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT count(*), string_agg(r.name, ',') INTO n, names FROM (SELECT o.name FROM old_rows o LIMIT 61) r;
    ELSE
        SELECT count(*), string_agg(r.name, ',') INTO n, names FROM (SELECT x.name FROM new_rows x LIMIT 61) r;
    END IF;
    IF n > 0 THEN
        PERFORM pg_notify('baton_schedule', CASE WHEN n > 60 THEN '' ELSE names END);
    END IF;
    RETURN NULL;
END
$$;

-- Transition tables allow one event per trigger, hence three triggers.
CREATE OR REPLACE TRIGGER schedules_notify_insert AFTER INSERT ON baton.schedules
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_schedules();

CREATE OR REPLACE TRIGGER schedules_notify_update AFTER UPDATE ON baton.schedules
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_schedules();

CREATE OR REPLACE TRIGGER schedules_notify_delete AFTER DELETE ON baton.schedules
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_schedules();
