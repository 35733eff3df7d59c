-- Session notifications stay within PostgreSQL's 8000-byte payload limit, which a statement
-- touching many sessions with long ids (up to 200 characters each) passed: pg_notify then
-- failed and took the whole statement (a worker's batch commit) with it. And an id containing
-- a comma cannot be told apart in the comma-separated list. Both now send '' ("look again"),
-- which every listener already understands.

-- As in 0005, with the two rules above.
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
