-- The running steps, for the rescuer: it looks for RUNNING tasks whose worker went away or
-- whose 202 deadline passed, every few seconds in every worker. Without this index it read the
-- whole PENDING backlog to find them (about 270 ms a pass with 1,000,000 tasks queued).
CREATE INDEX tasks_running ON baton.tasks (worker_id) WHERE status = 'RUNNING';
