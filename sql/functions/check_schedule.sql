-- Checks what every schedule has: name, kind, phases, a known time zone.
CREATE OR REPLACE FUNCTION baton.check_schedule(name text, kind text, phases int, time_zone text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF name IS NULL OR name !~ '^[A-Za-z0-9_.:-]{1,100}$' THEN
        RAISE EXCEPTION 'schedule name must be 1 to 100 letters, digits or _.:- (got %)', coalesce(quote_literal(name), 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    PERFORM baton.check_kind_and_phases(kind, phases);
    IF time_zone IS NULL OR NOT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = time_zone) THEN
        RAISE EXCEPTION 'unknown time zone %', coalesce(quote_literal(time_zone), 'NULL')
            USING ERRCODE = 'BT400', HINT = 'Use an IANA name such as UTC, Europe/Berlin or America/New_York.';
    END IF;
END
$$;
