-- baton.decide becomes a plain SQL function returning a table (inlined by the planner), so its
-- old definition, a PL/pgSQL function with OUT parameters, must go first. Its new text is in
-- sql/functions/decide.sql, applied after the migrations.
DROP FUNCTION IF EXISTS baton.decide(text, int, text, int, boolean, boolean, text);
