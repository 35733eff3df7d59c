-- The functions any client may call: create, proceed, retry, cancel, and finishing a step
-- from outside (an HTTP handler that answered 202).

-- Advisory lock keys (two-int form): (lock_class, hashtext(session_id)) is held by the worker
-- connection that runs a step of that session; (lock_class + 1, n) are process-wide locks.
CREATE FUNCTION baton.lock_class() RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 74261 $$;

-- Retry backoff: base * 2^(attempt-1), capped, with "equal jitter" (half fixed, half random).
-- The worker uses the same policy in Swift (BatonCore/RetryPolicy.swift); a test keeps them equal.
CREATE FUNCTION baton.retry_delay_ms(attempt int, base_ms int, cap_ms int, jitter float8)
RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (d / 2 + floor(jitter * (d / 2 + 1)))::int
    FROM (SELECT least(cap_ms::numeric, base_ms::numeric * power(2::numeric, greatest(attempt, 1) - 1))::bigint AS d) x
$$;

CREATE FUNCTION baton.create_session(
    phases int, input jsonb, id text DEFAULT NULL, kind text DEFAULT 'default',
    auto_steps boolean DEFAULT true, auto_phases boolean DEFAULT false)
RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    new_id text := coalesce(create_session.id, gen_random_uuid()::text);
    s baton.sessions;
BEGIN
    IF phases IS NULL OR phases < 1 OR phases > 1000 THEN
        RAISE EXCEPTION 'phases must be between 1 and 1000 (got %)', coalesce(phases::text, 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    IF length(new_id) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'session id must be 1 to 200 characters (got %)', length(new_id) USING ERRCODE = 'BT400';
    END IF;
    IF kind IS NULL OR kind !~ '^[A-Za-z0-9_.:-]{1,100}$' THEN
        RAISE EXCEPTION 'kind must be 1 to 100 letters, digits or _.:- (got %)', coalesce(quote_literal(kind), 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    INSERT INTO baton.sessions AS t (id, kind, total_phases, auto_steps, auto_phases, input)
    VALUES (new_id, create_session.kind, phases, coalesce(auto_steps, true), coalesce(auto_phases, false),
            coalesce(create_session.input, '{}'::jsonb))
    ON CONFLICT ON CONSTRAINT sessions_pkey DO NOTHING
    RETURNING t.* INTO s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'session % already exists', new_id
            USING ERRCODE = 'BT409', HINT = 'Choose another id, or omit it to get a generated one.';
    END IF;
    INSERT INTO baton.tasks (session_id, kind, phase, step) VALUES (s.id, s.kind, 1, 'THINK');
    RETURN s;
END
$$;

-- Creates one session per input in one statement (one NOTIFY per channel for the whole batch),
-- with generated ids. The set-based twin of create_session, for bulk loads.
CREATE FUNCTION baton.create_sessions(
    phases int, inputs jsonb[], kind text DEFAULT 'default',
    auto_steps boolean DEFAULT true, auto_phases boolean DEFAULT false)
RETURNS SETOF baton.sessions
LANGUAGE plpgsql AS $$
BEGIN
    IF phases IS NULL OR phases < 1 OR phases > 1000 THEN
        RAISE EXCEPTION 'phases must be between 1 and 1000 (got %)', coalesce(phases::text, 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    IF kind IS NULL OR kind !~ '^[A-Za-z0-9_.:-]{1,100}$' THEN
        RAISE EXCEPTION 'kind must be 1 to 100 letters, digits or _.:- (got %)', coalesce(quote_literal(kind), 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    RETURN QUERY
    WITH created AS (
        INSERT INTO baton.sessions (id, kind, total_phases, auto_steps, auto_phases, input)
        SELECT gen_random_uuid()::text, create_sessions.kind, phases, coalesce(auto_steps, true),
               coalesce(auto_phases, false), coalesce(i.input, '{}'::jsonb)
        FROM unnest(inputs) WITH ORDINALITY i(input, n)
        ORDER BY i.n
        RETURNING *
    ), queued AS (
        INSERT INTO baton.tasks (session_id, kind, phase, step)
        SELECT c.id, c.kind, 1, 'THINK' FROM created c
    )
    SELECT * FROM created;
END
$$;

-- Locks a session row and returns it, or raises BT404.
CREATE FUNCTION baton.lock_session(session_id text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.sessions;
BEGIN
    SELECT * INTO s FROM baton.sessions t WHERE t.id = lock_session.session_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown session %', quote_literal(session_id)
            USING ERRCODE = 'BT404', HINT = 'List sessions with `baton session list`.';
    END IF;
    RETURN s;
END
$$;

-- Raises BT409 naming the current state and where the action is allowed.
CREATE FUNCTION baton.wrong_state(s baton.sessions, what text, allowed text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'session % is %; % is allowed only %', quote_literal(s.id), s.status, what, allowed
        USING ERRCODE = 'BT409';
END
$$;

-- Moves a session waiting at the gate (AWAITING_PROCEED) to its next step.
CREATE FUNCTION baton.proceed(session_id text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.sessions := baton.lock_session(session_id);
    d record;
BEGIN
    d := baton.decide(s.status, s.phase, s.step, s.total_phases, s.auto_steps, s.auto_phases, 'proceed');
    IF d.next_status IS NULL THEN
        PERFORM baton.wrong_state(s, 'proceed', 'in AWAITING_PROCEED');
    END IF;
    UPDATE baton.sessions t SET status = d.next_status, phase = d.next_phase, step = d.next_step
    WHERE t.id = s.id RETURNING t.* INTO s;
    INSERT INTO baton.tasks (session_id, kind, phase, step) VALUES (s.id, s.kind, s.phase, s.step);
    RETURN s;
END
$$;

-- Resumes a FAILED session at the step that failed, keeping earlier results; the step gets a
-- fresh retry budget and its attempt numbers continue.
CREATE FUNCTION baton.retry(session_id text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.sessions := baton.lock_session(session_id);
    d record;
BEGIN
    d := baton.decide(s.status, s.phase, s.step, s.total_phases, s.auto_steps, s.auto_phases, 'retry');
    IF d.next_status IS NULL THEN
        PERFORM baton.wrong_state(s, 'retry', 'in FAILED');
    END IF;
    UPDATE baton.tasks k SET status = 'PENDING', attempt_base = k.attempt, run_at = now(),
                             error = NULL, finished_at = NULL, worker_id = NULL
    WHERE k.session_id = s.id AND k.phase = s.phase AND k.step = s.step;
    IF NOT FOUND THEN
        INSERT INTO baton.tasks (session_id, kind, phase, step) VALUES (s.id, s.kind, s.phase, s.step);
    END IF;
    UPDATE baton.sessions t SET status = d.next_status, error = NULL
    WHERE t.id = s.id RETURNING t.* INTO s;
    RETURN s;
END
$$;

-- Cancels a session in any state but COMPLETED and CANCELLED. A step still running keeps
-- running until its handler returns; its result is then recorded as DISCARDED, not applied.
-- Lock order everywhere is task row, then session row (claim, commit, rescue do the same), so
-- a cancel racing a worker waits instead of deadlocking.
CREATE FUNCTION baton.cancel(session_id text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.sessions;
    d record;
BEGIN
    PERFORM 1 FROM baton.tasks k
    WHERE k.session_id = cancel.session_id AND k.status IN ('PENDING', 'RUNNING')
    FOR UPDATE;
    s := baton.lock_session(session_id);
    d := baton.decide(s.status, s.phase, s.step, s.total_phases, s.auto_steps, s.auto_phases, 'cancel');
    IF d.next_status IS NULL THEN
        PERFORM baton.wrong_state(s, 'cancel', 'before the session is COMPLETED or CANCELLED');
    END IF;
    UPDATE baton.tasks k SET status = 'CANCELLED', finished_at = now()
    WHERE k.session_id = s.id AND k.status IN ('PENDING', 'RUNNING');
    UPDATE baton.sessions t SET status = 'CANCELLED' WHERE t.id = s.id RETURNING t.* INTO s;
    RETURN s;
END
$$;

-- Locks a task row and returns it, or raises BT404; BT409 unless it is RUNNING.
CREATE FUNCTION baton.lock_running_task(task_id bigint, what text) RETURNS baton.tasks
LANGUAGE plpgsql AS $$
DECLARE
    k baton.tasks;
BEGIN
    SELECT * INTO k FROM baton.tasks t WHERE t.id = lock_running_task.task_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown task %', task_id USING ERRCODE = 'BT404';
    END IF;
    IF k.status <> 'RUNNING' THEN
        RAISE EXCEPTION 'task % is %; only a RUNNING task can be %', task_id, k.status, what
            USING ERRCODE = 'BT409';
    END IF;
    RETURN k;
END
$$;

-- Finishes a RUNNING step with a result, from outside the worker (an HTTP handler's 202).
CREATE FUNCTION baton.complete_task(task_id bigint, result jsonb) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    k baton.tasks := baton.lock_running_task(task_id, 'completed');
BEGIN
    PERFORM baton.finish_tasks(k.worker_id, ARRAY[k.id], ARRAY[k.attempt], ARRAY[true],
        ARRAY[coalesce(result, 'null'::jsonb)], ARRAY[NULL::text], ARRAY[NULL::int],
        ARRAY[k.started_at], ARRAY[now()], ARRAY[NULL::jsonb], ARRAY[false]);
    RETURN (SELECT s FROM baton.sessions s WHERE s.id = k.session_id);
END
$$;

-- Fails the current attempt of a RUNNING step, from outside the worker. The step is retried
-- with the backoff of the worker that claimed it, or the session FAILS when attempts are spent.
CREATE FUNCTION baton.fail_task(task_id bigint, error text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    k baton.tasks := baton.lock_running_task(task_id, 'failed');
    n int := k.attempt - k.attempt_base;
    delay int;
BEGIN
    IF n < coalesce(k.max_attempts, 4) THEN
        delay := baton.retry_delay_ms(n, coalesce(k.retry_delay_ms, 1000), 300000, random());
    END IF;
    PERFORM baton.finish_tasks(k.worker_id, ARRAY[k.id], ARRAY[k.attempt], ARRAY[false],
        ARRAY[NULL::jsonb], ARRAY[coalesce(error, 'failed (no message)')], ARRAY[delay],
        ARRAY[k.started_at], ARRAY[now()], ARRAY[NULL::jsonb], ARRAY[false]);
    RETURN (SELECT s FROM baton.sessions s WHERE s.id = k.session_id);
END
$$;
