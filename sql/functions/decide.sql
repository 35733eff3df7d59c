-- What an event does to a session at a position. Returns one row; status is NULL when the
-- event is not allowed in that state. action: none | enqueue | await | complete | fail | cancel.
-- Events: claim (a worker starts the step), succeed, fail (retries spent or permanent error),
-- proceed (the gate), retry (a FAILED session), cancel.
-- Plain SQL, so the planner inlines it into the statements that use it (the finish moves a
-- batch of sessions with it): no function call per row.
CREATE OR REPLACE FUNCTION baton.decide(
    status text, phase int, step text, total_phases int,
    auto_steps boolean, auto_phases boolean, event text)
RETURNS TABLE (next_status text, next_phase int, next_step text, action text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT x.next_status,
           CASE WHEN x.next_status IS NOT NULL THEN x.next_phase END,
           CASE WHEN x.next_status IS NOT NULL THEN x.next_step END,
           CASE WHEN x.next_status IS NOT NULL THEN x.action END
    FROM (
        SELECT
            CASE event
            WHEN 'claim' THEN CASE WHEN status = 'PENDING' AND step = 'THINK' THEN 'THINKING'
                                   WHEN v.running THEN status END
            WHEN 'succeed' THEN CASE WHEN NOT v.running THEN NULL
                                     WHEN v.following IS NOT NULL THEN
                                         CASE WHEN auto_steps THEN baton.step_status(v.following) ELSE 'AWAITING_PROCEED' END
                                     WHEN phase >= total_phases THEN 'COMPLETED'
                                     WHEN auto_steps AND auto_phases THEN 'THINKING'
                                     ELSE 'AWAITING_PROCEED' END
            WHEN 'fail' THEN CASE WHEN v.running THEN 'FAILED' END
            WHEN 'proceed' THEN CASE WHEN status = 'AWAITING_PROCEED' THEN baton.step_status(step) END
            WHEN 'retry' THEN CASE WHEN status = 'FAILED' THEN baton.step_status(step) END
            WHEN 'cancel' THEN CASE WHEN status NOT IN ('COMPLETED', 'CANCELLED') THEN 'CANCELLED' END
            END AS next_status,
            CASE WHEN event = 'succeed' AND v.following IS NULL AND phase < total_phases THEN phase + 1 ELSE phase END AS next_phase,
            CASE WHEN event = 'succeed' THEN
                     CASE WHEN v.following IS NOT NULL THEN v.following WHEN phase >= total_phases THEN NULL ELSE 'THINK' END
                 ELSE step END AS next_step,
            CASE event
            WHEN 'succeed' THEN CASE WHEN v.following IS NOT NULL THEN CASE WHEN auto_steps THEN 'enqueue' ELSE 'await' END
                                     WHEN phase >= total_phases THEN 'complete'
                                     WHEN auto_steps AND auto_phases THEN 'enqueue' ELSE 'await' END
            WHEN 'fail' THEN 'fail' WHEN 'proceed' THEN 'enqueue' WHEN 'retry' THEN 'enqueue'
            WHEN 'cancel' THEN 'cancel' ELSE 'none' END AS action
        FROM (SELECT baton.next_step(step) AS following,
                     coalesce(status IN ('THINKING', 'EXECUTING', 'INTEGRATING') AND status = baton.step_status(step), false) AS running) v
    ) x
$$;
