"""Sizes, counts and durations as people read and write them. No Textual here."""

from __future__ import annotations

import re
from datetime import timedelta

from crestfall_tui.errors import CrestfallError

_DURATION = re.compile(r"(\d+)\s*(s|m|h|d|w)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`30m`, `24h`, `7d`, `1h30m` (s, m, h, d, w)."""
    compact = text.replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise CrestfallError(f"{text!r} is not a duration such as 30m, 24h or 7d",
                             title="Duration")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(compact)))


def size_text(size: int) -> str:
    """Bytes in the largest unit under 1024: 812 B, 7 MB."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.0f} TB"
