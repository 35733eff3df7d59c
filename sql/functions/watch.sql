-- Watches a table: every committed INSERT, UPDATE (of `columns`, when given) and DELETE of a
-- row makes a session of `kind` for the row's key, coalesced per key (see record_changes.sql).
-- Calling it again for the same table and kind replaces the watch. The caller must be allowed
-- to create triggers on the table and functions in schema baton.
CREATE OR REPLACE FUNCTION baton.watch(source regclass, kind text, key_column text DEFAULT 'id', phases int DEFAULT 1,
                                       columns text[] DEFAULT NULL, auto_phases boolean DEFAULT true)
RETURNS baton.watches
LANGUAGE plpgsql
SET client_min_messages = warning  -- no "trigger does not exist, skipping" notices
AS $$
DECLARE
    w baton.watches;
    rel record;
    key_att record;
    missing text;
    diff text;
    fn text;
BEGIN
    PERFORM baton.check_kind_and_phases(kind, phases);
    SELECT c.relkind, c.relname, n.nspname INTO rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = source;
    IF NOT FOUND OR rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table; baton.watch watches ordinary tables', source USING ERRCODE = 'BT400';
    END IF;
    IF rel.nspname = 'baton' THEN
        RAISE EXCEPTION 'Baton''s own tables cannot be watched' USING ERRCODE = 'BT400';
    END IF;
    SELECT a.attnum, a.attnotnull INTO key_att FROM pg_attribute a
    WHERE a.attrelid = source AND a.attname = key_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % has no column %', source, coalesce(quote_literal(key_column), 'NULL')
            USING ERRCODE = 'BT400',
                  HINT = 'Name the key column with key_column => ''...''; it must be one NOT NULL column with a unique index.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_index i
                   WHERE i.indrelid = source AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1
                     AND i.indkey[0] = key_att.attnum AND i.indpred IS NULL AND i.indexprs IS NULL) THEN
        RAISE EXCEPTION 'column % of % is not a key of its own: Baton coalesces changes per key, so key_column needs a unique index on that column alone',
            quote_ident(key_column), source
            USING ERRCODE = 'BT400',
                  HINT = format('For a key of several columns, add one and watch it: ALTER TABLE %s ADD COLUMN baton_key text '
                                || 'GENERATED ALWAYS AS (a::text || ''/'' || b::text) STORED NOT NULL UNIQUE, then key_column => ''baton_key''.', source);
    END IF;
    IF NOT key_att.attnotnull THEN
        RAISE EXCEPTION 'key column % of % may be NULL; a watched key must be NOT NULL', quote_ident(key_column), source
            USING ERRCODE = 'BT400', HINT = format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', source, key_column);
    END IF;
    IF columns IS NOT NULL THEN
        IF cardinality(columns) = 0 THEN
            RAISE EXCEPTION 'columns is empty: name the columns whose changes count, or pass NULL for all' USING ERRCODE = 'BT400';
        END IF;
        SELECT string_agg(quote_literal(c), ', ') INTO missing FROM unnest(columns) c
        WHERE c IS NULL OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attname = c
                                                                     AND a.attnum > 0 AND NOT a.attisdropped);
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'table % has no column %', source, missing USING ERRCODE = 'BT400';
        END IF;
        columns := ARRAY(SELECT DISTINCT c FROM unnest(columns) c ORDER BY c);
    END IF;

    INSERT INTO baton.watches AS x (source, source_name, kind, key_column, phases, columns, auto_phases)
    VALUES (source, format('%I.%I', rel.nspname, rel.relname), kind, key_column, phases, columns, coalesce(auto_phases, true))
    ON CONFLICT ON CONSTRAINT watches_source_kind_key DO UPDATE
        SET source_name = EXCLUDED.source_name, key_column = EXCLUDED.key_column, phases = EXCLUDED.phases,
            columns = EXCLUDED.columns, auto_phases = EXCLUDED.auto_phases
    RETURNING x.* INTO w;

    -- Whether an UPDATE changed what is watched: compared as text, which every type has.
    IF columns IS NULL THEN
        diff := 'ROW(baton_old.*)::text IS DISTINCT FROM ROW(baton_new.*)::text';
    ELSE
        SELECT format('ROW(%s)::text IS DISTINCT FROM ROW(%s)::text',
                      string_agg(format('baton_old.%I', c), ', '), string_agg(format('baton_new.%I', c), ', '))
        INTO diff FROM unnest(columns) c;
    END IF;
    fn := format('baton.%I', 'watch_' || w.id);
    -- A generated trigger function per watch: its queries are planned once per connection.
    -- Identifiers come from the catalog and are quoted; no value is spliced into the text. The
    -- aliases are unlikely column names, and whole rows are written alias.* so neither is read
    -- as a column of the table.
    EXECUTE format($gen$
        CREATE OR REPLACE FUNCTION %1$s() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        DECLARE
            changed text[];
            appeared text[];
            gone text[];
            gone_rows jsonb[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                PERFORM baton.record_changes(%2$s, 'insert', ARRAY(SELECT baton_new.%3$I::text FROM new_rows baton_new));
            ELSIF TG_OP = 'UPDATE' THEN
                SELECT array_agg(baton_new.%3$I::text) FILTER (WHERE baton_old.%3$I IS NOT NULL AND %4$s),
                       array_agg(baton_new.%3$I::text) FILTER (WHERE baton_old.%3$I IS NULL)
                INTO changed, appeared
                FROM new_rows baton_new LEFT JOIN old_rows baton_old ON baton_old.%3$I = baton_new.%3$I;
                PERFORM baton.record_changes(%2$s, 'update', changed);
                IF appeared IS NOT NULL THEN
                    -- Keys changed: the new keys' rows appeared, the old keys' rows went away.
                    PERFORM baton.record_changes(%2$s, 'insert', appeared);
                    SELECT array_agg(baton_old.%3$I::text), array_agg(to_jsonb(baton_old.*)) INTO gone, gone_rows
                    FROM old_rows baton_old
                    WHERE NOT EXISTS (SELECT 1 FROM new_rows baton_new WHERE baton_new.%3$I = baton_old.%3$I);
                    PERFORM baton.record_changes(%2$s, 'delete', gone, gone_rows);
                END IF;
            ELSE
                SELECT array_agg(baton_old.%3$I::text), array_agg(to_jsonb(baton_old.*)) INTO gone, gone_rows
                FROM old_rows baton_old;
                PERFORM baton.record_changes(%2$s, 'delete', gone, gone_rows);
            END IF;
            RETURN NULL;
        END
        $body$
        $gen$, fn, w.id, key_column, diff);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'baton_watch_' || w.id || '_insert', source);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'baton_watch_' || w.id || '_update', source);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'baton_watch_' || w.id || '_delete', source);
    -- One trigger per event: transition tables allow no more.
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %s()', 'baton_watch_' || w.id || '_insert', source, fn);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %s()', 'baton_watch_' || w.id || '_update', source, fn);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %s()', 'baton_watch_' || w.id || '_delete', source, fn);
    RETURN w;
END
$$;
