"""How the Users section writes a user and a time."""

from __future__ import annotations

from datetime import datetime

from crestfall_tui.services.users import AuthUser


def name(user: AuthUser) -> str:
    """A user as people know them: email, else phone, else id."""
    return user.email or user.phone or user.id


def when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at is not None else "-"
