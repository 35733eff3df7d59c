-- Every status change the state machine allows (a change of phase alone is not a status
-- change), as one list. A plain SQL function over a constant, so the guard trigger's WHEN
-- clause evaluates it inline, with no query and no function call per updated session.
-- baton.transitions, the view clients read, lists the same changes (SQLContractTests check
-- that the two and SessionMachine.swift agree on every pair).
CREATE OR REPLACE FUNCTION baton.is_allowed_transition(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (from_status || '>' || to_status) = ANY (ARRAY[
        'PENDING>THINKING', 'THINKING>EXECUTING', 'EXECUTING>INTEGRATING',
        'INTEGRATING>THINKING', 'INTEGRATING>COMPLETED',
        'THINKING>AWAITING_PROCEED', 'EXECUTING>AWAITING_PROCEED', 'INTEGRATING>AWAITING_PROCEED',
        'AWAITING_PROCEED>THINKING', 'AWAITING_PROCEED>EXECUTING', 'AWAITING_PROCEED>INTEGRATING',
        'THINKING>FAILED', 'EXECUTING>FAILED', 'INTEGRATING>FAILED',
        'FAILED>THINKING', 'FAILED>EXECUTING', 'FAILED>INTEGRATING',
        'PENDING>CANCELLED', 'THINKING>CANCELLED', 'EXECUTING>CANCELLED', 'INTEGRATING>CANCELLED',
        'AWAITING_PROCEED>CANCELLED', 'FAILED>CANCELLED'])
$$;
