"""The Tables section (F2): the schema tree, the table grid and its editing."""

from crestfall_tui.screens.tables.screen import TablesScreen

__all__ = ["TablesScreen"]
