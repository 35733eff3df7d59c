-- Removes a watch: its triggers and their function. Sessions it created run on.
CREATE OR REPLACE FUNCTION baton.unwatch(source regclass, kind text) RETURNS baton.watches
LANGUAGE plpgsql AS $$
DECLARE
    w baton.watches;
BEGIN
    DELETE FROM baton.watches x WHERE x.source = unwatch.source AND x.kind = unwatch.kind RETURNING x.* INTO w;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no watch of kind % on %', coalesce(quote_literal(kind), 'NULL'), source
            USING ERRCODE = 'BT404', HINT = 'List watches with `baton watch list` or SELECT * FROM baton.watches.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = w.source) THEN  -- else the table was dropped, and its triggers with it
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'baton_watch_' || w.id || '_insert', w.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'baton_watch_' || w.id || '_update', w.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'baton_watch_' || w.id || '_delete', w.source);
    END IF;
    EXECUTE format('DROP FUNCTION IF EXISTS baton.%I()', 'watch_' || w.id);
    RETURN w;
END
$$;
