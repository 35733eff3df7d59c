-- For a scheduler: sets the first due time of a schedule that has none (new or changed).
CREATE OR REPLACE FUNCTION baton.plan_schedule(name text, next_due timestamptz) RETURNS boolean
LANGUAGE sql AS $$
    UPDATE baton.schedules x SET next_due = plan_schedule.next_due
    WHERE x.name = plan_schedule.name AND x.next_due IS NULL
    RETURNING true
$$;
