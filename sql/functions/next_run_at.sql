-- The earliest time a PENDING task becomes ready (for the worker's next timer), or NULL.
CREATE OR REPLACE FUNCTION baton.next_run_at(kinds text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT min(k.run_at) FROM baton.tasks k
    WHERE k.status = 'PENDING' AND (kinds IS NULL OR k.kind = ANY (kinds))
$$;
