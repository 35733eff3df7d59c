-- Retry backoff: base * 2^(attempt-1), capped, with "equal jitter" (half fixed, half random).
-- The worker uses the same policy in Swift (BatonCore/RetryPolicy.swift); a test keeps them equal.
CREATE OR REPLACE FUNCTION baton.retry_delay_ms(attempt int, base_ms int, cap_ms int, jitter float8)
RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (d / 2 + floor(jitter * (d / 2 + 1)))::int
    FROM (SELECT least(cap_ms::numeric, base_ms::numeric * power(2::numeric, greatest(attempt, 1) - 1))::bigint AS d) x
$$;
