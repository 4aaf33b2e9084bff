"""Sizes and counts as people read them. No Textual here."""

from __future__ import annotations


def size_text(size: int) -> str:
    """Bytes in the largest unit under 1024: 812 B, 7 MB."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.0f} TB"
