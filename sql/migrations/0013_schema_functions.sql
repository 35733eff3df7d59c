-- Bookkeeping for `baton migrate`: the function files of sql/functions/ it applied, each with
-- the SHA-256 of the text it applied. After the migrations, `baton migrate` applies every file
-- whose text differs from the one recorded here (CREATE OR REPLACE), in the same transaction.
CREATE TABLE baton.schema_functions (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
