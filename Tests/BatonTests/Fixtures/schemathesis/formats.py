"""Schemathesis hooks for APIPropertyTests: how to generate the string formats that Baton's
OpenAPI document names but JSON Schema does not define (`period`, `cron`, `time-zone`).

The document says what each format admits (see its descriptions); these strategies draw only
values of that form, so the positive-data check tests that the server accepts them. The
strategies are deliberately a subset: a value the server would also accept is fine to leave out.
"""

import schemathesis
from hypothesis import strategies as st

# A fixed period: PostgreSQL interval text of at least one second, no months or years.
_units = st.sampled_from(["s", "sec", "second", "seconds", "m", "min", "minute", "minutes",
                          "h", "hour", "hours", "d", "day", "days", "w", "week", "weeks"])
_simple_period = st.builds(lambda n, unit, space: f"{n}{' ' if space else ''}{unit}",
                           st.integers(1, 9999), _units, st.booleans())
_iso_period = st.builds(lambda h, m: f"PT{h}H{m}M", st.integers(0, 99), st.integers(1, 59))
_two_parts = st.builds(lambda d, h: f"{d} days {h} hours", st.integers(0, 30), st.integers(1, 23))
schemathesis.openapi.format("period", st.one_of(_simple_period, _iso_period, _two_parts))


def _field(low, high):
    """One cron field: *, */step, a value, a range, or a list of values, with an optional step."""
    value = st.integers(low, high)
    ranged = st.tuples(value, value).map(sorted).map(lambda r: f"{r[0]}-{r[1]}")
    listed = st.lists(value, min_size=1, max_size=4, unique=True).map(lambda v: ",".join(map(str, v)))
    step = st.integers(1, high - low + 1)
    return st.one_of(
        st.just("*"),
        step.map(lambda s: f"*/{s}"),
        value.map(str),
        ranged,
        st.tuples(ranged, step).map(lambda t: f"{t[0]}/{t[1]}"),
        listed,
    )


# Day-of-month stays within 1-28, so every expression names a day that exists in its months.
_cron_fields = st.tuples(_field(0, 59), _field(0, 23), _field(1, 28), st.one_of(_field(1, 12), st.sampled_from(
    ["JAN", "feb", "Mar-Jun", "*/3", "OCT,NOV"])), st.one_of(_field(0, 7), st.sampled_from(["MON-FRI", "sun", "SAT,SUN"])))
_macros = st.sampled_from(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@DAILY"])
schemathesis.openapi.format("cron", st.one_of(_cron_fields.map(" ".join), _macros))

# IANA names every tz database has (PostgreSQL's pg_timezone_names on Debian reads the system's).
schemathesis.openapi.format("time-zone", st.sampled_from([
    "UTC", "Etc/UTC", "Europe/Berlin", "Europe/London", "America/New_York", "America/Sao_Paulo",
    "Asia/Tokyo", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham", "Africa/Nairobi", "Etc/GMT+12",
]))


@schemathesis.hook
def map_query(context, query):
    """Keeps long polls short: a drawn `wait` up to 300 s on a session whose version matches
    `since` would hold the request that long. The long poll has tests of its own (APITests,
    APIProcessTests); values outside 0-300 pass unchanged, so their refusal is still tested."""
    wait = query.get("wait") if isinstance(query, dict) else None
    if isinstance(wait, (int, float)) and not isinstance(wait, bool) and 1 < wait <= 300:
        query["wait"] = 1
    return query
