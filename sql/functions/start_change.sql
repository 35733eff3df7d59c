-- The change document of a watch session whose first step starts now: the row as committed now
-- (a fresh snapshot; every change folded into the session has committed, see record_changes.sql), or, when
-- the row is gone, the last row that was deleted; and the op (baton.change_op). A row that cannot be read
-- (table dropped, no privilege) leaves `row` null and says why in `rowError`.
CREATE OR REPLACE FUNCTION baton.start_change(origin jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    change jsonb := origin -> 'change';
    source regclass := to_regclass(origin #>> '{change,table}');
    key_type text;
    found_row jsonb;
    problem text;
BEGIN
    IF source IS NULL THEN
        problem := 'table ' || coalesce(change ->> 'table', '?') || ' no longer exists';
    ELSE
        SELECT format_type(a.atttypid, a.atttypmod) INTO key_type FROM pg_attribute a
        WHERE a.attrelid = source AND a.attname = change ->> 'keyColumn' AND a.attnum > 0 AND NOT a.attisdropped;
        IF key_type IS NULL THEN
            problem := format('table %s has no column %I any more', source, change ->> 'keyColumn');
        ELSE
            BEGIN
                -- The key compared in the column's own type, so the table's unique index is used.
                EXECUTE format('SELECT to_jsonb(t) FROM %s t WHERE t.%I = $1::%s', source, change ->> 'keyColumn', key_type)
                INTO found_row USING change ->> 'key';
            EXCEPTION WHEN OTHERS THEN
                problem := SQLERRM;
            END;
        END IF;
    END IF;
    IF problem IS NOT NULL THEN
        change := change || jsonb_build_object('row', NULL, 'rowError', 'the row could not be read: ' || problem);
    ELSE
        change := change || jsonb_build_object(
            'op', baton.change_op(change ->> 'op', found_row IS NOT NULL),
            'row', coalesce(found_row, change -> 'deletedRow'));
    END IF;
    RETURN jsonb_set(origin, '{change}', change - 'deletedRow');
END
$$;
