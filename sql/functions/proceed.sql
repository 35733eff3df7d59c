-- Moves a session waiting at the gate (AWAITING_PROCEED) to its next step.
CREATE OR REPLACE FUNCTION baton.proceed(session_id text) RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.sessions := baton.lock_session(session_id);
    d record;
BEGIN
    SELECT * INTO d FROM baton.decide(s.status, s.phase, s.step, s.total_phases, s.auto_steps, s.auto_phases, 'proceed');
    IF d.next_status IS NULL THEN
        PERFORM baton.wrong_state(s, 'proceed', 'in AWAITING_PROCEED');
    END IF;
    UPDATE baton.sessions t SET status = d.next_status, phase = d.next_phase, step = d.next_step
    WHERE t.id = s.id RETURNING t.* INTO s;
    INSERT INTO baton.tasks (session_id, kind, phase, step) VALUES (s.id, s.kind, s.phase, s.step);
    RETURN s;
END
$$;
