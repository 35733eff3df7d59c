-- The progress of a session row (see baton.progress), derived from its stored position the
-- same way as SessionProgress in Swift; the contract tests compare the two on every position.
CREATE OR REPLACE FUNCTION baton.session_progress(s baton.sessions) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'sessionId', s.id,
        'status', s.status,
        'currentPhase', s.phase,
        'currentStep', s.step,
        -- The stored phase is the one still to finish, except once the last one is done.
        'completedPhases', to_jsonb(ARRAY(SELECT generate_series(1,
            CASE WHEN s.status = 'COMPLETED' THEN s.total_phases ELSE greatest(0, s.phase - 1) END))),
        'totalPhases', s.total_phases,
        'canProceed', s.status = 'AWAITING_PROCEED',
        'requiresManualTrigger', CASE
            WHEN s.status = 'AWAITING_PROCEED' THEN true
            WHEN s.status IN ('COMPLETED', 'CANCELLED') OR s.step IS NULL THEN false
            -- Steps that do not auto-advance stop after every step but the very last.
            WHEN NOT s.auto_steps THEN NOT (s.step = 'INTEGRATE' AND s.phase >= s.total_phases)
            -- Otherwise only phase boundaries can stop, and only before the last phase ends.
            ELSE NOT s.auto_phases AND s.phase < s.total_phases
        END,
        'version', s.version,
        'updatedAt', to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;
