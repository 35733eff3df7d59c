-- A worker that stops cleanly says so; its steps were finished or given back.
CREATE OR REPLACE FUNCTION baton.worker_stopped(worker text) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM baton.workers WHERE id = worker;
$$;
