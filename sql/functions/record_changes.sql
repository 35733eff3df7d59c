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
--   both happen in one INSERT ... ON CONFLICT statement (this function).
-- - A keyed session's first step is claimed only while no other session of its key runs
--   (baton.key_free, under a per-key transaction lock that retry takes too). The end of a keyed
--   session announces the key's queued task, so it starts at once (baton.notify_key_released).
--
-- baton.record_changes records the changed keys of one statement on a watched table: each
-- key's change folds into the key's queued session, or creates one. `deleted` holds the old
-- rows of a 'delete', in the order of `keys`. Called by the trigger functions that baton.watch
-- generates.
CREATE OR REPLACE FUNCTION baton.record_changes(watch int, op text, keys text[], deleted jsonb[] DEFAULT NULL)
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
