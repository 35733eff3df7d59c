-- Removes a schedule and its run log; sessions it created run on.
CREATE OR REPLACE FUNCTION baton.unschedule(name text) RETURNS baton.schedules
LANGUAGE plpgsql AS $$
DECLARE
    s baton.schedules;
BEGIN
    DELETE FROM baton.schedules x WHERE x.name = unschedule.name RETURNING x.* INTO s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown schedule %', coalesce(quote_literal(name), 'NULL')
            USING ERRCODE = 'BT404', HINT = 'List schedules with `baton schedule list`.';
    END IF;
    RETURN s;
END
$$;
