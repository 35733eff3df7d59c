-- The central tables every host syncs into. (source_host, original_id) names a row for good:
-- the upsert on it makes a re-sent batch a no-op.
CREATE TABLE IF NOT EXISTS activity (
    source_host text NOT NULL,
    original_id bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    app         text NOT NULL,
    title       text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_host, original_id)
);
CREATE TABLE IF NOT EXISTS file_changes (
    source_host text NOT NULL,
    original_id bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    path        text NOT NULL,
    change      text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_host, original_id)
);

-- One schedule per host, of a kind only that host's worker serves: a run lands on the host
-- whose file it reads. Every 5 seconds here; every 5 minutes in the original.
SELECT baton.schedule('sqlite-sync.host-a', '5 seconds', 'sqlite-sync.host-a');
SELECT baton.schedule('sqlite-sync.host-b', '5 seconds', 'sqlite-sync.host-b');
