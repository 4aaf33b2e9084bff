"""Connection strings and keys, masked until the user reveals them."""

from __future__ import annotations

from rich.table import Table
from textual.widgets import Static

from crestfall_tui.stack.model import Connection


class ConnectionList(Static):
    """A two-column list: what it is, and the string a client needs."""

    def show(self, connections: list[Connection], *, reveal: bool) -> None:
        """Render the connections; secrets stay `***` unless `reveal`."""
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for connection in connections:
            grid.add_row(connection.label, connection.shown(reveal=reveal))
        self.update(grid)
