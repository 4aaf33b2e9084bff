"""The stack's Postgres extensions: installed (with version), available, or missing."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from crestfall_tui.services.extensions import ExtensionInfo


class ExtensionList(Static):
    """One line per extension the stack wants."""

    def show(self, extensions: Sequence[ExtensionInfo]) -> None:
        """Render the extensions with their state."""
        theme = self.app.current_theme
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        for ext in extensions:
            if ext.installed_version:
                state = Text(f"✓ {ext.installed_version}", style=theme.success or "")
            elif ext.available:
                state = Text("– not created", style=theme.warning or "")
            else:
                state = Text("✗ not on server", style=theme.error or "")
            grid.add_row(ext.name, state)
        self.update(grid)

    def unavailable(self, reason: str) -> None:
        """Say why the list cannot be read now (the db is down, say)."""
        self.update(Text(reason, style="dim"))
