-- The session state machine, enforced inside PostgreSQL for every client: the table of allowed
-- status changes (below), baton.decide, and the guard triggers on baton.sessions
-- (sql/functions/decide.sql, sessions_guard.sql, sessions_insert_guard.sql). Its twin in Swift
-- is BatonCore/SessionMachine.swift; a test proves the two agree on every (state, event) pair
-- and on the table of allowed status changes.

-- SQLSTATEs raised by Baton (class BT):
--   BT400  bad argument          BT404  unknown session or task
--   BT409  wrong state           BT422  status change the state machine forbids

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
