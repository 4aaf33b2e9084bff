"""A row someone else changed since it was read: the user's version beside the current one,
and a choice. Nothing was written until they choose."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Static

from crestfall_tui.modals.base import CrestfallModal
from crestfall_tui.services.pending import Change, shown_value
from crestfall_tui.services.relations import TableInfo
from crestfall_tui.services.table_view import Row


class ConflictModal(CrestfallModal[str | None]):
    """Dismisses with 'mine' (apply my change to the current row), 'theirs' (drop my
    change) or None (decide later; the change stays pending)."""

    DEFAULT_CSS = """
    ConflictModal > .frame {
        width: 95%; height: auto; max-height: 90%; border: thick $warning;
        background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("m", "dismiss('mine')", "Keep mine", id="conflict.mine"),
        Binding("t", "dismiss('theirs')", "Take theirs", id="conflict.theirs"),
        Binding("escape", "dismiss(None)", "Decide later", id="conflict.later"),
    ]

    def __init__(self, table: TableInfo, change: Change, current: Row | None) -> None:
        super().__init__()
        self.table = table
        self.change = change
        self.current = current

    def compose(self) -> ComposeResult:
        assert self.change.row is not None
        grid = Table(expand=True)
        for heading in ("column", "when you read it", "yours", "now"):
            grid.add_column(heading, overflow="fold")
        for index, column in enumerate(self.table.columns):
            read = self.change.row.values[index]
            mine = shown_value(self.change, column.name, read)
            now = self.current.values[index] if self.current else None
            style = "bold" if mine != read or (self.current and now != read) else "dim"
            grid.add_row(Text(column.name, style=style), _cell(read),
                         _cell(mine, mine != read), _cell(now, bool(self.current)
                                                         and now != read))
        with Vertical(classes="frame"):
            if self.current is None:
                yield Label("This row was deleted (or moved) by someone else after you read "
                            "it. Nothing was written.")
            else:
                yield Label("Someone else changed this row after you read it. Nothing was "
                            "written.")
            yield Static(grid)
            yield Label("m: apply yours to the row as it is now · t: take theirs and drop "
                        "yours · escape: decide later (yours stays pending)")


def _cell(value: object, changed: bool = False) -> Text:
    if value is None:
        return Text("NULL", style="italic dim")
    return Text(str(value), style="bold yellow" if changed else "")
