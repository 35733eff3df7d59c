-- Steps that an HTTP handler accepted with 202: they continue elsewhere and are finished later
-- through baton.complete_task / baton.fail_task (or the API's /api/tasks/{id}/complete|fail).
-- Such a step stays RUNNING without its worker: the worker releases the session lock and its
-- slot (baton.defer_tasks), and the rescuer must neither mistake the step for one whose worker
-- died nor let it wait forever (baton.rescue_tasks).

-- deferred_attempt names the attempt that was handed off, so a later attempt of the same task
-- (after a retry) is never mistaken for a deferred one; deferred_until is its deadline.
ALTER TABLE baton.tasks
    ADD COLUMN deferred_attempt int,
    ADD COLUMN deferred_until timestamptz;
