-- Moves a session waiting at the gate (AWAITING_PROCEED) to its next step, and records the
-- review: who proceeded (`reviewer`, else the database user), when, and an optional note and
-- JSON payload, which the steps after the gate get in their document.
CREATE OR REPLACE FUNCTION baton.proceed(
    session_id text, note text DEFAULT NULL, payload jsonb DEFAULT NULL, reviewer text DEFAULT NULL)
RETURNS baton.sessions
LANGUAGE plpgsql AS $$
DECLARE
    s baton.sessions := baton.lock_session(session_id);
    d record;
BEGIN
    IF length(note) > 10000 THEN
        RAISE EXCEPTION 'the review note is % characters long; at most 10000', length(note) USING ERRCODE = 'BT400';
    END IF;
    IF length(reviewer) > 200 THEN
        RAISE EXCEPTION 'the reviewer name is % characters long; at most 200', length(reviewer) USING ERRCODE = 'BT400';
    END IF;
    SELECT * INTO d FROM baton.decide(s.status, s.phase, s.step, s.total_phases, s.auto_steps, s.auto_phases, 'proceed');
    IF d.next_status IS NULL THEN
        PERFORM baton.wrong_state(s, 'proceed', 'in AWAITING_PROCEED');
    END IF;
    UPDATE baton.sessions t SET status = d.next_status, phase = d.next_phase, step = d.next_step
    WHERE t.id = s.id RETURNING t.* INTO s;
    INSERT INTO baton.tasks (session_id, kind, phase, step) VALUES (s.id, s.kind, s.phase, s.step);
    INSERT INTO baton.reviews (session_id, phase, step, reviewer, note, payload)
    VALUES (s.id, s.phase, s.step, coalesce(nullif(btrim(reviewer), ''), session_user), note, payload);
    RETURN s;
END
$$;
