-- A schedule with a fixed period (at least a second; days count as 24 hours; months and years
-- have no fixed length: use a cron expression). The first run is one period after creation.
CREATE OR REPLACE FUNCTION baton.schedule(name text, every interval, kind text, input jsonb DEFAULT '{}', phases int DEFAULT 1,
                                          auto_phases boolean DEFAULT true)
RETURNS baton.schedules
LANGUAGE plpgsql AS $$
DECLARE
    ms numeric;
BEGIN
    PERFORM baton.check_schedule(name, kind, phases, 'UTC');
    IF every IS NULL OR extract(month FROM every) <> 0 OR extract(year FROM every) <> 0 THEN
        RAISE EXCEPTION 'every must be a fixed period such as ''5 minutes'' or ''1 day'' (got %); months and years vary in length, use a cron expression for them',
            coalesce(quote_literal(every::text), 'NULL') USING ERRCODE = 'BT400';
    END IF;
    ms := extract(epoch FROM every) * 1000;
    IF ms < 1000 THEN
        RAISE EXCEPTION 'every must be at least 1 second (got %)', quote_literal(every::text) USING ERRCODE = 'BT400';
    END IF;
    RETURN baton.put_schedule(name, round(ms)::bigint, NULL, kind, input, phases, 'UTC', auto_phases);
END
$$;

-- A schedule from a standard 5-field cron expression (or @hourly, @daily, …) in a time zone.
-- A text that is no cron expression but reads as an interval ('5 minutes') makes a fixed-period
-- schedule, so the quoting of the second argument does not change what a call means.
CREATE OR REPLACE FUNCTION baton.schedule(name text, cron text, kind text, input jsonb DEFAULT '{}', phases int DEFAULT 1,
                                          time_zone text DEFAULT 'UTC', auto_phases boolean DEFAULT true)
RETURNS baton.schedules
LANGUAGE plpgsql AS $$
DECLARE
    checked text;
    cron_error text;
    period interval;
BEGIN
    PERFORM baton.check_schedule(name, kind, phases, time_zone);
    IF cron IS NULL THEN
        RAISE EXCEPTION 'a schedule needs a cron expression or a period (got NULL)' USING ERRCODE = 'BT400';
    END IF;
    BEGIN
        checked := baton.cron_check(cron);
    EXCEPTION WHEN SQLSTATE 'BT400' THEN
        GET STACKED DIAGNOSTICS cron_error = MESSAGE_TEXT;
    END;
    IF checked IS NOT NULL THEN
        RETURN baton.put_schedule(name, NULL, checked, kind, input, phases, time_zone, auto_phases);
    END IF;
    -- Only a text with a unit ('5 minutes', 'PT5M') or a clock ('00:05:00') reads as a period:
    -- a bare '5' is a cron expression with a field missing, not five seconds.
    IF cron ~ '[A-Za-z:]' AND cron !~ '^\s*@' THEN
        BEGIN
            period := cron::interval;
        EXCEPTION WHEN OTHERS THEN
            period := NULL;
        END;
    END IF;
    IF period IS NULL THEN
        RAISE EXCEPTION '%', cron_error
            USING ERRCODE = 'BT400', HINT = 'For a fixed period, pass an interval such as ''5 minutes''.';
    END IF;
    RETURN baton.schedule(name, period, kind, input, phases, auto_phases);
END
$$;
