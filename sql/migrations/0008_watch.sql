-- Work that starts from data: baton.watch(table, kind) turns every committed INSERT, UPDATE and
-- DELETE of a row into a session of that kind for the row's key, with exact coalescing per
-- (kind, key): at most one session queued and one running. The tables are here; how the
-- functions keep the guarantees is told in sql/functions/record_changes.sql.

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

-- The claim and finish_and_claim of 0004 return one column fewer (no origin), and a function's
-- result type cannot be replaced: a database that had them loses them here, and
-- sql/functions/claim_tasks.sql and finish_and_claim.sql create the new ones.
DROP FUNCTION IF EXISTS baton.finish_and_claim(text, bigint[], int[], boolean[], jsonb[], text[], int[], timestamptz[],
                                               timestamptz[], jsonb[], boolean[], int, text[], int, int);
DROP FUNCTION IF EXISTS baton.claim_tasks(text, int, text[], int, int);
