"""The Query section (F3): the SQL editor, its buffers and streaming results."""

from crestfall_tui.screens.query.screen import QueryScreen

__all__ = ["QueryScreen"]
