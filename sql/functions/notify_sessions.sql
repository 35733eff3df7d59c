-- Wake-up calls on baton_session, sent by statement-level triggers: one NOTIFY per statement
-- (never per row: notifying commits are serialized), carrying the ids of the sessions the
-- statement touched, comma-separated. NOTIFY is a hint; the tables are the truth.
-- The payload is '' ("look again", which every listener understands) when the statement
-- touched more than 100 sessions, when the list would not stay within PostgreSQL's 8000-byte
-- payload limit (ids are up to 200 characters; pg_notify would fail and take the statement,
-- a worker's batch commit, with it), or when an id holds a comma (the list could not be split).
CREATE OR REPLACE FUNCTION baton.notify_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n int;
    ids text;
    ambiguous boolean;
BEGIN
    SELECT count(*), string_agg(x.id, ','), bool_or(strpos(x.id, ',') > 0)
    INTO n, ids, ambiguous
    FROM (SELECT r.id FROM new_rows r LIMIT 101) x;
    IF n > 0 THEN
        PERFORM pg_notify('baton_session',
                          CASE WHEN n > 100 OR ambiguous OR octet_length(ids) > 7000 THEN '' ELSE ids END);
    END IF;
    RETURN NULL;
END
$$;

-- Transition tables allow one event per trigger, hence two triggers.
CREATE OR REPLACE TRIGGER sessions_notify_insert AFTER INSERT ON baton.sessions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_sessions();

CREATE OR REPLACE TRIGGER sessions_notify_update AFTER UPDATE ON baton.sessions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION baton.notify_sessions();
