-- Resumes a FAILED session at the step that failed, keeping earlier results; the step gets a
-- fresh retry budget and its attempt numbers continue.
CREATE OR REPLACE FUNCTION baton.retry(session_id text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.sessions := baton.lock_session(session_id);
    d record;
BEGIN
    SELECT * INTO d FROM baton.decide(s.status, s.phase, s.step, s.total_phases, s.auto_steps, s.auto_phases, 'retry');
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
