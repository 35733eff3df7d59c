-- Cron expressions for schedules. baton.cron_check accepts exactly what BatonCore's
-- CronExpression accepts (Sources/BatonCore/Schedule/) and refuses the rest with the same
-- message, SQLSTATE BT400; CronContractTests compares the two on thousands of expressions.
-- Due times are not computed here: the scheduler computes them in Swift (ScheduleRule).
--
-- The checks run in the same order as in Swift, so both report the same first problem:
-- macro or field count; then per field, left to right: a character other than a digit, an
-- ASCII letter or * , - /; a letter in a field without names; then per comma-separated
-- item: empty, malformed, start value, end value, backward range, step. Last: an expression
-- whose day-of-month exists in none of its months (and whose day-of-week is * or */1).
-- Only ASCII letters and digits count, and case is folded with translate(), because upper()
-- and character classes follow the database's locale.

CREATE FUNCTION baton.cron_check(expression text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    -- Field separators: space, tab, line feed, vertical tab, form feed, carriage return.
    spaces constant text := E' \t\n' || chr(11) || E'\f\r';
    lower_letters constant text := 'abcdefghijklmnopqrstuvwxyz';
    upper_letters constant text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    field_names constant text[] := ARRAY['minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
    lows constant int[] := ARRAY[0, 0, 1, 1, 0];
    highs constant int[] := ARRAY[59, 23, 31, 12, 7];
    month_names constant text[] := ARRAY['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN',
                                         'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
    day_names constant text[] := ARRAY['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
    -- The most days each month ever has.
    longest constant int[] := ARRAY[31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    expr text;
    source text;
    fields text[];
    field text;
    prefix text;
    names text[];
    allowed text;
    items text[];
    item text;
    parts text[];
    token text;
    bounds int[];
    first_value int;
    last_value int;
    step int;
    star boolean;
    field_values int[];
    day_of_month_star boolean;
    day_of_week_star boolean;
    days int[];
    months int[];
BEGIN
    IF expression IS NULL THEN
        RAISE EXCEPTION 'cron expression is NULL; give 5 fields or a macro such as @daily' USING ERRCODE = 'BT400';
    END IF;
    expr := btrim(expression, spaces);
    source := expr;
    IF left(expr, 1) = '@' THEN
        source := CASE translate(expr, upper_letters, lower_letters)
            WHEN '@yearly' THEN '0 0 1 1 *' WHEN '@annually' THEN '0 0 1 1 *'
            WHEN '@monthly' THEN '0 0 1 * *' WHEN '@weekly' THEN '0 0 * * 0'
            WHEN '@daily' THEN '0 0 * * *' WHEN '@midnight' THEN '0 0 * * *'
            WHEN '@hourly' THEN '0 * * * *' END;
        IF source IS NULL THEN
            RAISE EXCEPTION '%', format('cron expression ''%s'' is not valid: unknown macro; use '
                '@yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly', expr)
                USING ERRCODE = 'BT400';
        END IF;
    END IF;
    fields := CASE WHEN source = '' THEN '{}'::text[]
                   ELSE regexp_split_to_array(translate(source, spaces, '      '), ' +') END;
    IF cardinality(fields) <> 5 THEN
        RAISE EXCEPTION '%', format('cron expression ''%s'' is not valid: expected 5 fields '
            '(minute hour day-of-month month day-of-week) or a macro such as @daily, got %s', expr, cardinality(fields))
            USING ERRCODE = 'BT400';
    END IF;

    FOR i IN 1..5 LOOP
        field := fields[i];
        prefix := format('cron expression ''%s'' is not valid: the %s field ''%s'' ', expr, field_names[i], field);
        names := CASE i WHEN 4 THEN month_names WHEN 5 THEN day_names END;
        allowed := lows[i] || '-' || highs[i]
                   || CASE i WHEN 4 THEN ' or JAN-DEC' WHEN 5 THEN ' or SUN-SAT' ELSE '' END;
        token := substring(field FROM '[^0-9A-Za-z*,/-]');
        IF token IS NOT NULL THEN
            RAISE EXCEPTION '%', prefix || format('contains ''%s''; use only digits%s and * , - /', token,
                CASE i WHEN 4 THEN ', month names' WHEN 5 THEN ', day names' ELSE '' END) USING ERRCODE = 'BT400';
        END IF;
        IF names IS NULL AND field ~ '[A-Za-z]' THEN
            RAISE EXCEPTION '%', prefix || format('has the name ''%s''; use numbers %s-%s',
                substring(field FROM '[A-Za-z]+'), lows[i], highs[i]) USING ERRCODE = 'BT400';
        END IF;
        items := string_to_array(field, ',');
        field_values := '{}';
        FOREACH item IN ARRAY items LOOP
            IF item = '' THEN
                RAISE EXCEPTION '%', prefix || 'has an empty list item; put exactly one value, range or step between commas'
                    USING ERRCODE = 'BT400';
            END IF;
            -- *, v or v-v (v: digits or letters), then optionally /digits.
            parts := regexp_match(item, '^(?:\*|([0-9]+|[A-Za-z]+)(?:-([0-9]+|[A-Za-z]+))?)(?:/([0-9]+))?$');
            IF parts IS NULL THEN
                RAISE EXCEPTION '%', prefix || CASE WHEN item = field THEN 'is' ELSE format('has ''%s'', which is', item) END
                    || ' not a value, range or step; use n, a-b, *, */s, a-b/s or n/s, separated by commas'
                    USING ERRCODE = 'BT400';
            END IF;
            bounds := ARRAY[NULL, NULL]::int[];
            FOR j IN 1..2 LOOP
                token := parts[j];
                CONTINUE WHEN token IS NULL;
                IF token ~ '^[A-Za-z]' THEN
                    bounds[j] := array_position(names, translate(token, lower_letters, upper_letters))
                                 - CASE i WHEN 4 THEN 0 ELSE 1 END;
                    IF bounds[j] IS NULL THEN
                        RAISE EXCEPTION '%', prefix
                            || CASE WHEN token = field THEN 'is' ELSE format('has ''%s'', which is', token) END
                            || ' an unknown name; use ' || CASE i WHEN 4 THEN 'JAN-DEC' ELSE 'SUN-SAT' END
                            USING ERRCODE = 'BT400';
                    END IF;
                ELSE
                    -- Capped like the Swift parser: a long run of digits is simply out of range.
                    bounds[j] := CASE WHEN length(ltrim(token, '0')) > 6 THEN 1000000
                                      ELSE ('0' || ltrim(token, '0'))::int END;
                    IF bounds[j] < lows[i] OR bounds[j] > highs[i] THEN
                        RAISE EXCEPTION '%', prefix
                            || CASE WHEN token = field THEN 'is' ELSE format('has ''%s'', which is', token) END
                            || ' out of range; use ' || allowed
                            USING ERRCODE = 'BT400';
                    END IF;
                END IF;
            END LOOP;
            IF bounds[1] > bounds[2] THEN
                token := parts[1] || '-' || parts[2];
                RAISE EXCEPTION '%', prefix
                    || CASE WHEN token = field THEN 'is' ELSE format('has ''%s'', which is', token) END
                    || ' a backward range; write the smaller value first'
                    USING ERRCODE = 'BT400';
            END IF;
            step := 1;
            IF parts[3] IS NOT NULL THEN
                step := CASE WHEN length(ltrim(parts[3], '0')) > 6 THEN 1000000
                             ELSE ('0' || ltrim(parts[3], '0'))::int END;
                IF step < 1 OR step > highs[i] THEN
                    RAISE EXCEPTION '%', prefix || format('has the step ''%s'', which is out of range; use a step of 1-%s',
                        parts[3], highs[i]) USING ERRCODE = 'BT400';
                END IF;
            END IF;
            IF parts[1] IS NULL THEN
                first_value := lows[i];
                last_value := highs[i];
            ELSE
                first_value := bounds[1];
                -- n/s runs from n to the field's end.
                last_value := CASE WHEN parts[2] IS NOT NULL THEN bounds[2]
                                   WHEN parts[3] IS NOT NULL THEN highs[i] ELSE bounds[1] END;
            END IF;
            field_values := field_values || ARRAY(SELECT generate_series(first_value, last_value, step));
            -- Only * and */1 leave a field unrestricted (the day rule and DST policy look at this).
            star := cardinality(items) = 1 AND parts[1] IS NULL AND step = 1;
        END LOOP;
        CASE i
        WHEN 3 THEN days := field_values; day_of_month_star := star;
        WHEN 4 THEN months := field_values;
        WHEN 5 THEN day_of_week_star := star;
        ELSE NULL;
        END CASE;
    END LOOP;

    -- Every month has every weekday, so only a day-of-month that counts alone can rule out
    -- every day: its smallest day must fit the longest of its months.
    IF NOT day_of_month_star AND day_of_week_star
       AND (SELECT min(d) FROM unnest(days) d) > (SELECT max(longest[m]) FROM unnest(months) m) THEN
        RAISE EXCEPTION '%', format('cron expression ''%s'' is not valid: it never fires: no month in the '
            'month field ''%s'' has a day in the day-of-month field ''%s''', expr, fields[4], fields[3])
            USING ERRCODE = 'BT400';
    END IF;
    RETURN expr;
END
$$;

COMMENT ON FUNCTION baton.cron_check(text) IS
    'The cron expression without surrounding whitespace when valid (5 fields or a macro such as @daily); '
    'otherwise SQLSTATE BT400 with the same message as BatonCore''s CronExpression.';
