-- What an event does to a session at a position. Returns one row; status is NULL when the
-- event is not allowed in that state. action: none | enqueue | await | complete | fail | cancel.
-- Events: claim (a worker starts the step), succeed, fail (retries spent or permanent error),
-- proceed (the gate), retry (a FAILED session), cancel.
CREATE OR REPLACE FUNCTION baton.decide(
    status text, phase int, step text, total_phases int,
    auto_steps boolean, auto_phases boolean, event text,
    OUT next_status text, OUT next_phase int, OUT next_step text, OUT action text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    following text := baton.next_step(step);
    running boolean := status IN ('THINKING', 'EXECUTING', 'INTEGRATING')
                       AND status = baton.step_status(step);
BEGIN
    next_phase := phase;
    next_step := step;
    action := 'none';
    CASE event
    WHEN 'claim' THEN
        IF status = 'PENDING' AND step = 'THINK' THEN
            next_status := 'THINKING';
        ELSIF running THEN
            next_status := status;  -- a retry or a rescued step starts again: no change
        END IF;
    WHEN 'succeed' THEN
        IF running THEN
            IF following IS NOT NULL THEN
                next_step := following;
                IF auto_steps THEN
                    next_status := baton.step_status(following);
                    action := 'enqueue';
                ELSE
                    next_status := 'AWAITING_PROCEED';
                    action := 'await';
                END IF;
            ELSIF phase >= total_phases THEN
                next_status := 'COMPLETED';
                next_step := NULL;
                action := 'complete';
            ELSE
                next_phase := phase + 1;
                next_step := 'THINK';
                IF auto_steps AND auto_phases THEN
                    next_status := 'THINKING';
                    action := 'enqueue';
                ELSE
                    next_status := 'AWAITING_PROCEED';
                    action := 'await';
                END IF;
            END IF;
        END IF;
    WHEN 'fail' THEN
        IF running THEN
            next_status := 'FAILED';
            action := 'fail';
        END IF;
    WHEN 'proceed' THEN
        IF status = 'AWAITING_PROCEED' THEN
            next_status := baton.step_status(step);
            action := 'enqueue';
        END IF;
    WHEN 'retry' THEN
        IF status = 'FAILED' THEN
            next_status := baton.step_status(step);
            action := 'enqueue';
        END IF;
    WHEN 'cancel' THEN
        IF status NOT IN ('COMPLETED', 'CANCELLED') THEN
            next_status := 'CANCELLED';
            action := 'cancel';
        END IF;
    ELSE
        NULL;
    END CASE;
    IF next_status IS NULL THEN
        next_phase := NULL;
        next_step := NULL;
        action := NULL;
    END IF;
END
$$;
