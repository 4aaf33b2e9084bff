"""The Users section (F4): auth users, their sessions, and lock-out."""

from crestfall_tui.screens.users.screen import UsersScreen

__all__ = ["UsersScreen"]
