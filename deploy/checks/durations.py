"""Durations as the three tools write them, in seconds."""

import re

_SYSTEMD_UNITS = {
    "us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3,
    "": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
}


def systemd_seconds(text: str) -> float | None:
    """A systemd time span ("45s", "1min 30s", "45"); None when it is not one."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text.strip())
    if not parts or re.sub(r"[\d.\sa-z]", "", text.strip()):
        return None
    total = 0.0
    for number, unit in parts:
        if unit not in _SYSTEMD_UNITS:
            return None
        total += float(number) * _SYSTEMD_UNITS[unit]
    return total


_COMPOSE_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def compose_seconds(text) -> float | None:
    """A compose duration ("45s", "1m30s"); None when it is not one."""
    text = str(text).strip()
    parts = re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _COMPOSE_UNITS[u] for n, u in parts)
