"""A DataTable that shows its string cells as written. DataTable reads a str cell as Rich
markup, so a value from the database holding `[/x]` (a job's command, a user agent) failed
to render, and one holding `[b]` lost its text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


def plain(cell: object) -> object:
    """A str cell as plain text; any other cell as it is."""
    return Text(cell, end="") if isinstance(cell, str) else cell


class TextTable(DataTable[Any]):
    """A row-cursor table of values as they are (zebra-striped)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def add_row(self, *cells: object, height: int | None = 1, key: str | None = None,
                label: object = None) -> RowKey:
        return super().add_row(*map(plain, cells), height=height, key=key,
                               label=label)  # type: ignore[arg-type]

    def update_cell(self, row_key: Any, column_key: Any, value: object, *,
                    update_width: bool = False) -> None:
        super().update_cell(row_key, column_key, plain(value), update_width=update_width)

    def replace_rows(self, rows: Iterable[tuple[str, Sequence[object]]]) -> None:
        """The rows anew, each (key, cells), the cursor kept on the row it was on (by key):
        a list read again after a change stays where the user is."""
        current = None
        if self.row_count and self.is_valid_row_index(self.cursor_row):
            current = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if current is not None and current in self.rows:
            self.move_cursor(row=self.get_row_index(current))
