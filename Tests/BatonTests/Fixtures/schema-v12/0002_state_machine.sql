-- The session state machine, enforced inside PostgreSQL for every client.
-- Its twin in Swift is BatonCore/SessionMachine.swift; a test proves the two agree on every
-- (state, event) pair and on the table of allowed status changes.

-- SQLSTATEs raised by Baton (class BT):
--   BT400  bad argument          BT404  unknown session or task
--   BT409  wrong state           BT422  status change the state machine forbids

CREATE FUNCTION baton.step_status(step text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE step WHEN 'THINK' THEN 'THINKING'
                     WHEN 'EXECUTE' THEN 'EXECUTING'
                     WHEN 'INTEGRATE' THEN 'INTEGRATING' END
$$;

CREATE FUNCTION baton.next_step(step text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE step WHEN 'THINK' THEN 'EXECUTE' WHEN 'EXECUTE' THEN 'INTEGRATE' END
$$;

-- What an event does to a session at a position. Returns one row; status is NULL when the
-- event is not allowed in that state. action: none | enqueue | await | complete | fail | cancel.
-- Events: claim (a worker starts the step), succeed, fail (retries spent or permanent error),
-- proceed (the gate), retry (a FAILED session), cancel.
CREATE FUNCTION baton.decide(
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

-- Every status change the state machine allows (a change of phase alone is not a status change).
CREATE VIEW baton.transitions (from_status, to_status) AS
VALUES
    ('PENDING', 'THINKING'),
    ('THINKING', 'EXECUTING'),
    ('EXECUTING', 'INTEGRATING'),
    ('INTEGRATING', 'THINKING'),
    ('INTEGRATING', 'COMPLETED'),
    ('THINKING', 'AWAITING_PROCEED'),
    ('EXECUTING', 'AWAITING_PROCEED'),
    ('INTEGRATING', 'AWAITING_PROCEED'),
    ('AWAITING_PROCEED', 'THINKING'),
    ('AWAITING_PROCEED', 'EXECUTING'),
    ('AWAITING_PROCEED', 'INTEGRATING'),
    ('THINKING', 'FAILED'),
    ('EXECUTING', 'FAILED'),
    ('INTEGRATING', 'FAILED'),
    ('FAILED', 'THINKING'),
    ('FAILED', 'EXECUTING'),
    ('FAILED', 'INTEGRATING'),
    ('PENDING', 'CANCELLED'),
    ('THINKING', 'CANCELLED'),
    ('EXECUTING', 'CANCELLED'),
    ('INTEGRATING', 'CANCELLED'),
    ('AWAITING_PROCEED', 'CANCELLED'),
    ('FAILED', 'CANCELLED');

-- Rejects a status change the table does not allow, from any client; keeps version/updated_at.
CREATE FUNCTION baton.sessions_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status
       AND NOT EXISTS (SELECT 1 FROM baton.transitions t
                       WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
        RAISE EXCEPTION 'invalid status change for session %: % -> %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'BT422',
                  HINT = 'Use baton.proceed, baton.retry or baton.cancel; the allowed changes are listed in baton.transitions.';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.total_phases IS DISTINCT FROM OLD.total_phases THEN
        RAISE EXCEPTION 'session %: id and total_phases cannot change', OLD.id USING ERRCODE = 'BT422';
    END IF;
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER sessions_guard BEFORE UPDATE ON baton.sessions
    FOR EACH ROW EXECUTE FUNCTION baton.sessions_guard();

-- A new session starts at the beginning: PENDING, phase 1, THINK.
CREATE FUNCTION baton.sessions_insert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'PENDING' OR NEW.phase <> 1 OR NEW.step IS DISTINCT FROM 'THINK' THEN
        RAISE EXCEPTION 'invalid new session %: a session starts PENDING at phase 1, step THINK (got %)',
            NEW.id, NEW.status USING ERRCODE = 'BT422', HINT = 'Create sessions with baton.create_session.';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER sessions_insert_guard BEFORE INSERT ON baton.sessions
    FOR EACH ROW EXECUTE FUNCTION baton.sessions_insert_guard();
