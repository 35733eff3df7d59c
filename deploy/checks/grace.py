"""BATON_SHUTDOWN_GRACE: the binary's default, read from its source, and the rule every stop
timeout in deploy/ must follow (the grace, plus time to give steps back and close)."""

import re
from pathlib import Path

# Least time a stop timeout must leave after the grace: steps are given back
# (`release_tasks`), handlers stopped, connections closed. The files use 15 s.
MARGIN_SECONDS = 10

OPTIONS = Path("Sources/BatonCLI/Options.swift")


def default_grace_ms(repository: Path) -> int | None:
    """The default the binary uses when BATON_SHUTDOWN_GRACE is not set."""
    try:
        text = (repository / OPTIONS).read_text()
    except OSError:
        return None
    match = re.search(r'"BATON_SHUTDOWN_GRACE",\s*default:\s*([\d_]+)', text)
    return int(match.group(1).replace("_", "")) if match else None


def parse_ms(value) -> int | None:
    try:
        return int(str(value).strip().strip('"'))
    except ValueError:
        return None


def check_explicit(report, path, value, default_ms: int) -> int:
    """An example that sets BATON_SHUTDOWN_GRACE must set the default (the stop timeouts
    next to it are written for it). Returns the grace that applies, in ms."""
    ms = parse_ms(value)
    if ms is None:
        report.problem(path, f"BATON_SHUTDOWN_GRACE={value!r} is not a number of milliseconds")
        return default_ms
    if ms != default_ms:
        report.problem(path, f"BATON_SHUTDOWN_GRACE={ms} differs from Baton's default {default_ms} "
                             f"({OPTIONS}); the examples are written for the default")
    return ms


def check_stop_timeout(report, path, what: str, seconds: float | None, grace_ms: int, before_s: float = 0) -> None:
    """`seconds` (a stop timeout) must cover `before_s` (a preStop hook), the grace and the margin."""
    need = before_s + grace_ms / 1000 + MARGIN_SECONDS
    if seconds is None:
        report.problem(path, f"{what} is missing or not a duration; it must be at least {need:g} s "
                             f"(BATON_SHUTDOWN_GRACE {grace_ms} ms + {MARGIN_SECONDS} s)")
    elif seconds < need:
        extra = f" + preStop {before_s:g} s" if before_s else ""
        report.problem(path, f"{what} is {seconds:g} s: it must be at least {need:g} s "
                             f"(BATON_SHUTDOWN_GRACE {grace_ms} ms{extra} + {MARGIN_SECONDS} s), "
                             f"or running steps are killed instead of given back")
