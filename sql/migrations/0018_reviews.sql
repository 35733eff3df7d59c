-- Review at the gate: who let a session past a gate, when, with what note and payload. Part of
-- the session's history like its attempts (kept through retries, deleted with the session),
-- and handed to the steps after the gate in their document (`review`).
CREATE TABLE baton.reviews (
    id         bigserial PRIMARY KEY,
    session_id text NOT NULL REFERENCES baton.sessions (id) ON DELETE CASCADE,
    -- Where the session went through the gate: the phase and step it proceeded to.
    phase      int NOT NULL,
    step       text NOT NULL,
    reviewer   text NOT NULL,
    note       text,
    payload    jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_session ON baton.reviews (session_id, phase, id);

-- proceed takes the review: a change of arguments.
DROP FUNCTION IF EXISTS baton.proceed(text);
