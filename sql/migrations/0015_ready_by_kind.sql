-- Each kind's own queue of ready tasks: a worker that serves some kinds claims through it, so a
-- backlog of other kinds (a million rows of a kind no worker runs yet) is not walked on every
-- claim. The claim leaves this partial index as it leaves tasks_ready, so a status update
-- writes no entry into it. Building it locks baton.tasks against writes for as long as it
-- takes (seconds for millions of rows); see docs/design.md, "Schema changes".
CREATE INDEX tasks_ready_by_kind ON baton.tasks (kind, run_at, id) WHERE status = 'PENDING';
