-- Work that starts from data: baton.watch(table, kind) turns every committed INSERT, UPDATE and
-- DELETE of a row into a session of that kind for the row's key, in the changing transaction,
-- with exact coalescing per (kind, key): at most one session queued and one running.
--
-- How the guarantees are kept without ever making a worker wait for an application's transaction:
-- - A keyed session's first task carries `queued_key` until a worker claims it; a unique index
--   allows one such queued task per (kind, key).
-- - A change folds into the key's queued session by locking that task row for the rest of its
--   transaction. The claim skips locked rows (SKIP LOCKED), so the session starts only after
--   every change folded into it has committed, and it reads the row then.
-- - A change that finds no queued session (or one that has just started) creates a new one;
--   both happen in one INSERT ... ON CONFLICT statement (baton.record_changes).
-- - A keyed session's first step is claimed only while no other session of its key runs
--   (baton.key_free, under a per-key transaction lock that retry takes too). The end of a keyed
--   session announces the key's queued task, so it starts at once.

ALTER TABLE baton.sessions
    -- The coalescing key: the watched row's key (NULL for sessions created by clients).
    ADD COLUMN key text,
    -- What created the session, when not a client: {"change": {...}} or {"schedule": {...}}.
    -- Its members join the handler document.
    ADD COLUMN origin jsonb;

-- Finds a key's sessions (the claim's gate, retry's check). kind and key never change, so
-- session updates stay HOT.
CREATE INDEX sessions_by_key ON baton.sessions (kind, key) WHERE key IS NOT NULL;

ALTER TABLE baton.tasks
    -- The key of a keyed session's first step, until a worker claims it.
    ADD COLUMN queued_key text;

-- At most one queued (not yet started) session per key.
CREATE UNIQUE INDEX tasks_one_queued_per_key ON baton.tasks (kind, queued_key)
    WHERE queued_key IS NOT NULL AND status = 'PENDING';

CREATE TABLE baton.watches (
    id          int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      regclass NOT NULL,
    -- schema.table as it was named when watched: what handlers see as change.table.
    source_name text NOT NULL,
    kind        text NOT NULL CHECK (kind ~ '^[A-Za-z0-9_.:-]{1,100}$'),
    key_column  text NOT NULL,
    phases      int NOT NULL CHECK (phases BETWEEN 1 AND 1000),
    -- Only changes to these columns count; NULL: any column.
    columns     text[],
    auto_phases boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, kind)
);

-- Checks the kind and the phase count of the sessions a watch or a schedule will create.
CREATE FUNCTION baton.check_kind_and_phases(kind text, phases int) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF kind IS NULL OR kind !~ '^[A-Za-z0-9_.:-]{1,100}$' THEN
        RAISE EXCEPTION 'kind must be 1 to 100 letters, digits or _.:- (got %)', coalesce(quote_literal(kind), 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    IF phases IS NULL OR phases NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'phases must be between 1 and 1000 (got %)', coalesce(phases::text, 'NULL') USING ERRCODE = 'BT400';
    END IF;
END
$$;

-- The op a watch session's handler acts on, decided when its first step starts: 'delete' when
-- the row is gone; otherwise 'insert' when the first change folded into the session was an
-- INSERT (the row did not exist when the previous run of the key read it), else 'update'.
-- Its twin is BatonCore/ChangeOp.swift; a test compares every case.
CREATE FUNCTION baton.change_op(first_change text, row_exists boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN NOT row_exists THEN 'delete'
                WHEN first_change = 'insert' THEN 'insert'
                ELSE 'update' END
$$;

-- Records the changed keys of one statement on a watched table: each key's change folds into
-- the key's queued session, or creates one. `deleted` holds the old rows of a 'delete', in the
-- order of `keys`. Called by the trigger functions that baton.watch generates.
CREATE FUNCTION baton.record_changes(watch int, op text, keys text[], deleted jsonb[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    w baton.watches;
    todo text[];
    todo_deleted jsonb[];
    created text[];
BEGIN
    IF coalesce(cardinality(keys), 0) = 0 THEN
        RETURN;
    END IF;
    SELECT * INTO w FROM baton.watches x WHERE x.id = watch;
    IF NOT FOUND THEN
        RETURN;  -- unwatched while this statement ran
    END IF;
    -- One entry per key (the last row image wins), in key order so that concurrent statements
    -- lock and insert in the same order.
    SELECT array_agg(c.key ORDER BY c.key), array_agg(c.old ORDER BY c.key)
    INTO todo, todo_deleted
    FROM (
        SELECT DISTINCT ON (k.key) k.key, k.old
        FROM unnest(keys, coalesce(deleted, '{}'::jsonb[])) WITH ORDINALITY k(key, old, i)
        WHERE k.key IS NOT NULL
        ORDER BY k.key, k.i DESC
    ) c;
    IF todo IS NULL THEN
        RETURN;
    END IF;

    -- One statement queues a session for every key that has none queued, and locks the queued
    -- task of every key that has one: ON CONFLICT DO UPDATE locks the conflicting row even
    -- though its WHERE lets nothing be written. The lock keeps that session from starting until
    -- this transaction ends (the claim skips locked rows). A key whose queued task a claim is
    -- taking right now waits for the claim; the key then has none, and gets a new one. A key
    -- whose queued session another transaction is creating waits for it, and then locks it.
    WITH fresh AS MATERIALIZED (
        SELECT c.key, c.old, gen_random_uuid()::text AS id FROM unnest(todo, todo_deleted) c(key, old)
    ), queued AS (
        INSERT INTO baton.tasks AS t (session_id, kind, phase, step, queued_key)
        SELECT f.id, w.kind, 1, 'THINK', f.key FROM fresh f ORDER BY f.key
        ON CONFLICT (kind, queued_key) WHERE queued_key IS NOT NULL AND status = 'PENDING'
        DO UPDATE SET queued_key = EXCLUDED.queued_key WHERE false
        RETURNING t.session_id
    ), made AS (
        INSERT INTO baton.sessions AS s (id, kind, key, total_phases, auto_steps, auto_phases, origin, created_at)
        SELECT f.id, w.kind, f.key, w.phases, true, w.auto_phases,
               jsonb_build_object('change', jsonb_build_object(
                   'table', w.source_name, 'keyColumn', w.key_column, 'key', f.key, 'op', op, 'changes', 1)
                   || CASE WHEN f.old IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('deletedRow', f.old) END),
               -- The real time, not the transaction's: a key's sessions are ordered by it.
               clock_timestamp()
        FROM fresh f JOIN queued q ON q.session_id = f.id
        RETURNING s.key
    )
    SELECT array_agg(m.key) INTO created FROM made m;

    -- The other keys' queued tasks are locked by this transaction now: fold into their sessions.
    IF coalesce(cardinality(created), 0) < cardinality(todo) THEN
        UPDATE baton.sessions s
        -- op stays the first change's: baton.change_op decides at the start.
        SET origin = jsonb_set(s.origin, '{change}', (s.origin -> 'change') || jsonb_build_object(
                'changes', (s.origin #>> '{change,changes}')::int + 1)
            || CASE WHEN c.old IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('deletedRow', c.old) END)
        FROM baton.tasks t
        JOIN unnest(todo, todo_deleted) c(key, old) ON c.key = t.queued_key
        LEFT JOIN unnest(created) n(key) ON n.key = t.queued_key
        WHERE t.kind = w.kind AND t.queued_key = ANY (todo) AND t.status = 'PENDING' AND n.key IS NULL
          AND s.id = t.session_id AND s.status = 'PENDING';
    END IF;
END
$$;

-- Watches a table: every committed INSERT, UPDATE (of `columns`, when given) and DELETE of a
-- row makes a session of `kind` for the row's key, coalesced per key (see the top of this file).
-- Calling it again for the same table and kind replaces the watch. The caller must be allowed
-- to create triggers on the table and functions in schema baton.
CREATE FUNCTION baton.watch(source regclass, kind text, key_column text DEFAULT 'id', phases int DEFAULT 1,
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

-- Removes a watch: its triggers and their function. Sessions it created run on.
CREATE FUNCTION baton.unwatch(source regclass, kind text) RETURNS baton.watches
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

-- The claim's gate for a keyed session's first step: true when no other session of the key
-- runs (or waits at a gate). It looks with a fresh snapshot, under a per-key transaction lock
-- that a retry of a keyed session takes too, so a claim and a retry never both go ahead.
CREATE FUNCTION baton.key_free(kind text, key text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(baton.lock_class() + 2, hashtext(key_free.kind || '/' || key_free.key)) THEN
        RETURN false;
    END IF;
    RETURN NOT EXISTS (SELECT 1 FROM baton.sessions s
                       WHERE s.kind = key_free.kind AND s.key = key_free.key
                         AND s.status IN ('THINKING', 'EXECUTING', 'INTEGRATING', 'AWAITING_PROCEED'));
END
$$;

-- The change document of a watch session whose first step starts now: the row as committed now
-- (a fresh snapshot; every change folded into the session has committed, see the top), or, when
-- the row is gone, the last row that was deleted; and the op (baton.change_op). A row that cannot be read
-- (table dropped, no privilege) leaves `row` null and says why in `rowError`.
CREATE FUNCTION baton.start_change(origin jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    change jsonb := origin -> 'change';
    source regclass := to_regclass(origin #>> '{change,table}');
    key_type text;
    found_row jsonb;
    problem text;
BEGIN
    IF source IS NULL THEN
        problem := 'table ' || coalesce(change ->> 'table', '?') || ' no longer exists';
    ELSE
        SELECT format_type(a.atttypid, a.atttypmod) INTO key_type FROM pg_attribute a
        WHERE a.attrelid = source AND a.attname = change ->> 'keyColumn' AND a.attnum > 0 AND NOT a.attisdropped;
        IF key_type IS NULL THEN
            problem := format('table %s has no column %I any more', source, change ->> 'keyColumn');
        ELSE
            BEGIN
                -- The key compared in the column's own type, so the table's unique index is used.
                EXECUTE format('SELECT to_jsonb(t) FROM %s t WHERE t.%I = $1::%s', source, change ->> 'keyColumn', key_type)
                INTO found_row USING change ->> 'key';
            EXCEPTION WHEN OTHERS THEN
                problem := SQLERRM;
            END;
        END IF;
    END IF;
    IF problem IS NOT NULL THEN
        change := change || jsonb_build_object('row', NULL, 'rowError', 'the row could not be read: ' || problem);
    ELSE
        change := change || jsonb_build_object(
            'op', baton.change_op(change ->> 'op', found_row IS NOT NULL),
            'row', coalesce(found_row, change -> 'deletedRow'));
    END IF;
    RETURN jsonb_set(origin, '{change}', change - 'deletedRow');
END
$$;

-- As in 0004, plus: a keyed session's first step is claimed only while its key is free
-- (baton.key_free); claiming it ends its time as the key's queued session (queued_key), and a
-- watch session reads its row as it starts (baton.start_change). The session's origin comes
-- back for the handler document.
DROP FUNCTION baton.finish_and_claim(text, bigint[], int[], boolean[], jsonb[], text[], int[], timestamptz[],
                                     timestamptz[], jsonb[], boolean[], int, text[], int, int);
DROP FUNCTION baton.claim_tasks(text, int, text[], int, int);

CREATE FUNCTION baton.claim_tasks(
    worker text, max_tasks int, kinds text[] DEFAULT NULL,
    max_attempts int DEFAULT 4, retry_delay_ms int DEFAULT 1000)
RETURNS TABLE (task_id bigint, session_id text, kind text, phase int, step text, attempt int,
               budget_attempt int, total_phases int, input jsonb, previous jsonb, origin jsonb, lock_busy boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH picked AS MATERIALIZED (
        SELECT k.id, k.session_id FROM baton.tasks k
        WHERE k.status = 'PENDING' AND k.run_at <= now()
          AND (claim_tasks.kinds IS NULL OR k.kind = ANY (claim_tasks.kinds))
          AND CASE WHEN k.queued_key IS NULL THEN true ELSE baton.key_free(k.kind, k.queued_key) END
        ORDER BY k.run_at, k.id
        LIMIT claim_tasks.max_tasks
        FOR UPDATE SKIP LOCKED
    ), locked AS MATERIALIZED (
        -- Materialized: the lock function runs exactly once per picked row.
        SELECT p.id, pg_try_advisory_lock(baton.lock_class(), hashtext(p.session_id)) AS ok FROM picked p
    ), claimed AS (
        UPDATE baton.tasks k
        SET status = 'RUNNING', attempt = k.attempt + 1, worker_id = claim_tasks.worker,
            started_at = now(), finished_at = NULL, queued_key = NULL,
            max_attempts = claim_tasks.max_attempts, retry_delay_ms = claim_tasks.retry_delay_ms
        FROM locked l WHERE k.id = l.id AND l.ok
        RETURNING k.id, k.session_id, k.kind, k.phase, k.step, k.attempt, k.attempt - k.attempt_base AS budget_attempt
    ), started AS (
        UPDATE baton.sessions s
        SET status = 'THINKING',
            origin = CASE WHEN s.origin ? 'change' THEN baton.start_change(s.origin) ELSE s.origin END
        FROM claimed c WHERE s.id = c.session_id AND s.status = 'PENDING'
        RETURNING s.id, s.origin
    )
    SELECT c.id, c.session_id, c.kind, c.phase, c.step, c.attempt, c.budget_attempt,
           s.total_phases, s.input,
           coalesce((SELECT jsonb_object_agg(p.phase || '.' || p.step, p.result)
                     FROM baton.tasks p
                     WHERE p.session_id = c.session_id AND p.status = 'COMPLETED'
                       AND (p.phase = c.phase OR (p.phase < c.phase AND p.step = 'INTEGRATE'))),
                    '{}'::jsonb),
           coalesce(st.origin, s.origin),
           false
    FROM claimed c JOIN baton.sessions s ON s.id = c.session_id
    LEFT JOIN started st ON st.id = c.session_id
    UNION ALL
    SELECT l.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true
    FROM locked l WHERE NOT l.ok;
END
$$;

-- As in 0004, with the claim's new origin column.
CREATE FUNCTION baton.finish_and_claim(
    worker text, task_ids bigint[], attempts int[], succeeded boolean[], results jsonb[],
    errors text[], retry_delays_ms int[], started timestamptz[], finished timestamptz[],
    inputs jsonb[], unlock boolean[],
    max_tasks int, kinds text[] DEFAULT NULL, max_attempts int DEFAULT 4, retry_delay_ms int DEFAULT 1000)
RETURNS TABLE (finished_task_id bigint, finished_outcome text,
               task_id bigint, session_id text, kind text, phase int, step text, attempt int,
               budget_attempt int, total_phases int, input jsonb, previous jsonb, origin jsonb, lock_busy boolean)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    SELECT f.task_id, f.outcome, NULL::bigint, NULL::text, NULL::text, NULL::int, NULL::text, NULL::int,
           NULL::int, NULL::int, NULL::jsonb, NULL::jsonb, NULL::jsonb, NULL::boolean
    FROM baton.finish_tasks(worker, task_ids, attempts, succeeded, results, errors, retry_delays_ms,
                            started, finished, inputs, unlock) f;
    IF max_tasks > 0 THEN
        RETURN QUERY
        SELECT NULL::bigint, NULL::text, c.*
        FROM baton.claim_tasks(worker, max_tasks, kinds, max_attempts, retry_delay_ms) c;
    END IF;
END
$$;

-- When a keyed session stops running, the key's queued session may start: announce its task.
CREATE FUNCTION baton.notify_key_released() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    next_task bigint;
BEGIN
    SELECT t.id INTO next_task FROM baton.tasks t
    WHERE t.kind = NEW.kind AND t.queued_key = NEW.key AND t.status = 'PENDING';
    IF next_task IS NOT NULL THEN
        PERFORM pg_notify('baton_task', next_task::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_key_released AFTER UPDATE OF status ON baton.sessions
    FOR EACH ROW
    WHEN (NEW.key IS NOT NULL
          AND OLD.status IN ('THINKING', 'EXECUTING', 'INTEGRATING', 'AWAITING_PROCEED')
          AND NEW.status IN ('COMPLETED', 'FAILED', 'CANCELLED'))
    EXECUTE FUNCTION baton.notify_key_released();

-- A FAILED keyed session may be retried only while it is its key's newest session: a newer one
-- exists for a later change of the row and processes the newer row (and two runs of one key
-- must never overlap). Takes the key's lock, as the claim's gate does.
CREATE FUNCTION baton.sessions_key_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    newer text;
BEGIN
    PERFORM pg_advisory_xact_lock(baton.lock_class() + 2, hashtext(NEW.kind || '/' || NEW.key));
    SELECT s.id INTO newer FROM baton.sessions s
    WHERE s.kind = NEW.kind AND s.key = NEW.key AND s.id <> NEW.id AND s.created_at > OLD.created_at
    ORDER BY s.created_at DESC
    LIMIT 1;
    IF newer IS NOT NULL THEN
        RAISE EXCEPTION 'session % was superseded by session %, created for a later change of the same row (key %); retry is allowed only for the newest session of a key',
            quote_literal(NEW.id), quote_literal(newer), quote_literal(NEW.key)
            USING ERRCODE = 'BT409', HINT = 'The newer session processes the newest row; retry it instead if it failed.';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER sessions_key_guard BEFORE UPDATE OF status ON baton.sessions
    FOR EACH ROW
    WHEN (OLD.key IS NOT NULL AND OLD.status = 'FAILED' AND NEW.status IN ('THINKING', 'EXECUTING', 'INTEGRATING'))
    EXECUTE FUNCTION baton.sessions_key_guard();
