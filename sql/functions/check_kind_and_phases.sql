-- Checks the kind and the phase count of the sessions a watch or a schedule will create.
CREATE OR REPLACE FUNCTION baton.check_kind_and_phases(kind text, phases int) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF kind IS NULL OR kind !~ '^[A-Za-z0-9_.:-]{1,100}$' THEN
        RAISE EXCEPTION 'kind must be 1 to 100 letters, digits or _.:- (got %)', coalesce(quote_literal(kind), 'NULL')
            USING ERRCODE = 'BT400';
    END IF;
    IF phases IS NULL OR phases NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'phases must be between 1 and 1000 (got %)', coalesce(phases::text, 'NULL') USING ERRCODE = 'BT400';
    END IF;
END
$$;
