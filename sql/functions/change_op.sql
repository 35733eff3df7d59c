-- The op a watch session's handler acts on, decided when its first step starts: 'delete' when
-- the row is gone; otherwise 'insert' when the first change folded into the session was an
-- INSERT (the row did not exist when the previous run of the key read it), else 'update'.
-- Its twin is BatonCore/ChangeOp.swift; a test compares every case.
CREATE OR REPLACE FUNCTION baton.change_op(first_change text, row_exists boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN NOT row_exists THEN 'delete'
                WHEN first_change = 'insert' THEN 'insert'
                ELSE 'update' END
$$;
