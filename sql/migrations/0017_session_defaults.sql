-- The deployment's defaults for sessions created without saying whether they advance by
-- themselves (AUTO_PROGRESS_STEPS, AUTO_PROGRESS_PHASES), kept in the database so that a
-- session created from plain SQL gets them as one created through the API or the CLI does.
-- One row; `baton migrate` writes it when those variables are set.
CREATE TABLE baton.session_defaults (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    auto_steps  boolean NOT NULL DEFAULT true,
    auto_phases boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO baton.session_defaults DEFAULT VALUES;

-- Their auto_steps and auto_phases now default to NULL (the row above): a change of defaults.
DROP FUNCTION IF EXISTS baton.create_session(int, jsonb, text, text, boolean, boolean);
DROP FUNCTION IF EXISTS baton.create_sessions(int, jsonb[], text, boolean, boolean);
