"""Slurm's time format (``--time``, a partition's MaxTime) in seconds. A leaf module: config validation uses it."""

from __future__ import annotations

import re

_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")
UNLIMITED = float("inf")


def parse_slurm_time(value: str) -> float | None:
    """Seconds for "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS"; inf for INFINITE/UNLIMITED;
    None when ``value`` is not a Slurm time."""
    value = str(value).strip()
    if value.upper() in ("INFINITE", "UNLIMITED"):
        return UNLIMITED
    m = _TIME.match(value)
    if not m:
        return None
    days, a, b, c = m.groups()
    if days is not None:  # D-HH[:MM[:SS]]
        h, mi, se = int(a), int(b or 0), int(c or 0)
        return ((int(days) * 24 + h) * 60 + mi) * 60 + se
    if c is not None:  # HH:MM:SS
        return (int(a) * 60 + int(b)) * 60 + int(c)
    if b is not None:  # MM:SS
        return int(a) * 60 + int(b)
    return int(a) * 60  # MM


def format_slurm_time(seconds: float) -> str:
    if seconds == UNLIMITED:
        return "UNLIMITED"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{days}-{h:02d}:{m:02d}:{s:02d}" if days else f"{h:02d}:{m:02d}:{s:02d}"
