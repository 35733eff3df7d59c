-- Creates or replaces a schedule. One of every_ms / cron is set. A schedule whose period is
-- unchanged keeps its anchor, so running the same call at every deploy does not shift it.
CREATE OR REPLACE FUNCTION baton.put_schedule(name text, every_ms bigint, cron text, kind text, input jsonb, phases int,
                                              time_zone text, auto_phases boolean)
RETURNS baton.schedules
LANGUAGE plpgsql AS $$
DECLARE
    s baton.schedules;
BEGIN
    INSERT INTO baton.schedules AS x (name, kind, input, phases, auto_phases, every_ms, cron, time_zone)
    VALUES (name, kind, coalesce(input, '{}'), phases, coalesce(auto_phases, true), every_ms, cron, time_zone)
    ON CONFLICT ON CONSTRAINT schedules_pkey DO UPDATE
        SET kind = EXCLUDED.kind, input = EXCLUDED.input, phases = EXCLUDED.phases,
            auto_phases = EXCLUDED.auto_phases, every_ms = EXCLUDED.every_ms, cron = EXCLUDED.cron,
            time_zone = EXCLUDED.time_zone,
            anchor = CASE WHEN x.every_ms IS NOT DISTINCT FROM EXCLUDED.every_ms THEN x.anchor ELSE EXCLUDED.anchor END,
            next_due = NULL, updated_at = now()
    RETURNING x.* INTO s;
    RETURN s;
END
$$;
