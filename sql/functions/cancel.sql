-- Cancels a session in any state but COMPLETED and CANCELLED. A step still running keeps
-- running until its handler returns; its result is then recorded as DISCARDED, not applied.
-- Lock order everywhere is task row, then session row (claim, commit, rescue do the same), so
-- a cancel racing a worker waits instead of deadlocking.
CREATE OR REPLACE FUNCTION baton.cancel(session_id text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.sessions;
    d record;
BEGIN
    PERFORM 1 FROM baton.tasks k
    WHERE k.session_id = cancel.session_id AND k.status IN ('PENDING', 'RUNNING')
    FOR UPDATE;
    s := baton.lock_session(session_id);
    SELECT * INTO d FROM baton.decide(s.status, s.phase, s.step, s.total_phases, s.auto_steps, s.auto_phases, 'cancel');
    IF d.next_status IS NULL THEN
        PERFORM baton.wrong_state(s, 'cancel', 'before the session is COMPLETED or CANCELLED');
    END IF;
    UPDATE baton.tasks k SET status = 'CANCELLED', finished_at = now()
    WHERE k.session_id = s.id AND k.status IN ('PENDING', 'RUNNING');
    UPDATE baton.sessions t SET status = 'CANCELLED' WHERE t.id = s.id RETURNING t.* INTO s;
    RETURN s;
END
$$;
