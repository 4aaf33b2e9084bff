"""The Tables screen's grid: a window of a relation's rows (never the whole of it) with the
pending changes drawn over them: new rows first, changed cells, rows to delete, errors."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.message import Message

from crestfall_tui.services.pending import Change, PendingChanges, shown_value
from crestfall_tui.services.relations import TableInfo
from crestfall_tui.services.table_view import Row
from crestfall_tui.widgets.result_grid import ResultGrid

WINDOW = 1000
"""Rows held at most; beyond that, those farthest from the cursor are let go."""
MARGIN = 60
SAMPLE = 100
"""Rows at each end of the window that set the columns' widths."""
"""Ask for the next page when the cursor is this close to either end of the window."""


class TableGrid(ResultGrid):
    """Rows of one relation, a window at a time; `show`, `append`, `prepend` feed it."""

    COMPONENT_CLASSES = ResultGrid.COMPONENT_CLASSES | {
        "table-grid--changed", "table-grid--inserted", "table-grid--deleted",
        "table-grid--error"}
    DEFAULT_CSS = """
    TableGrid > .table-grid--changed { background: $warning 45%; }
    TableGrid > .table-grid--inserted { background: $success 30%; }
    TableGrid > .table-grid--deleted { background: $error 35%; text-style: strike; }
    TableGrid > .table-grid--error { background: $error 70%; text-style: bold; }
    """
    BINDINGS = [
        Binding("home", "jump('first')", "First row", show=False),
        Binding("end", "jump('last')", "Last row", show=False),
        Binding("enter,e", "edit", "Edit", tooltip="Edit the cell (booleans toggle)",
                id="tables.edit"),
        Binding("z", "open_cell", "View cell", show=False,
                tooltip="The whole value, JSON pretty-printed", id="tables.view_cell"),
        Binding("y", "copy_cell", "Copy cell", show=False, id="tables.copy_cell"),
        Binding("Y", "copy_row", "Copy row", show=False, id="tables.copy_row"),
    ]

    class Jump(Message):
        """The user wants the first or the last rows of the relation."""

        def __init__(self, where: str) -> None:
            super().__init__()
            self.where = where

    class EditWanted(Message):
        """Enter (or e) on a cell: whoever edits the table opens its editor."""

    class PendingChanged(Message):
        """The pending changes drawn over the rows changed: the grid draws them again (and
        the message goes on up, for whoever shows a summary)."""

    def on_table_grid_pending_changed(self) -> None:
        self.rebuild()

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.table: TableInfo | None = None
        self.pending = PendingChanges()
        self.window: list[Row] = []
        self.at_start = True
        self.at_end = True
        self.first_position: int | None = 0
        """How many rows come before the window's first, when known."""
        self.editable = False
        """Whether its cells may be edited now (the editor says; enter then edits)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.editable if action == "edit" else True

    def action_edit(self) -> None:
        self.post_message(self.EditWanted())

    def open(self, table: TableInfo, pending: PendingChanges) -> None:
        """A new relation: its columns, no rows yet."""
        self.table = table
        self.pending = pending
        self.window = []
        self.start([c.name for c in table.columns], [c.type_sql for c in table.columns])

    def show(self, rows: list[Row], *, at_start: bool, at_end: bool,
             cursor: int | None = None) -> None:
        """Replace the window (after a jump, a new sort or filter, a commit)."""
        self.window = list(rows)
        self.at_start, self.at_end = at_start, at_end
        self.first_position = 0 if at_start else None
        self.rebuild()
        target = len(self.rows) - 1 if cursor is None else cursor
        self.cursor_row = max(0, min(target, len(self.rows) - 1))
        self.call_after_refresh(self._ask_if_near_edges)

    def append(self, rows: list[Row], *, at_end: bool) -> None:
        self.window.extend(rows)
        self.at_end = at_end
        extra = len(self.window) - WINDOW
        if extra > 0:
            del self.window[:extra]
            self.at_start = False
            if self.first_position is not None:
                self.first_position += extra
            self._shift(-extra)
        self.rebuild()

    def prepend(self, rows: list[Row], *, at_start: bool) -> None:
        self.window[:0] = rows
        self.at_start = at_start
        if at_start:
            self.first_position = 0
        elif self.first_position is not None:
            self.first_position -= len(rows)
        extra = len(self.window) - WINDOW
        if extra > 0:
            del self.window[-extra:]
            self.at_end = False
        self._shift(len(rows))
        self.rebuild()

    def _shift(self, by: int) -> None:
        """Keep the cursor (and the view) on the same row when rows come or go above."""
        self.set_reactive(ResultGrid.cursor_row, max(0, self.cursor_row + by))
        self.scroll_to(y=max(0, self.scroll_offset.y + by), animate=False, immediate=True)

    @property
    def inserted(self) -> list[Change]:
        return [change for change in self.pending.changes if change.kind == "insert"]

    def rebuild(self) -> None:
        """Draw the window again with the pending changes over it."""
        if self.table is None:
            return
        names = [column.name for column in self.table.columns]
        rows: list[tuple[Any, ...]] = []
        for change in self.inserted:
            rows.append(tuple(shown_value(change, name, "DEFAULT" if self.table.column(
                name).has_default else None) for name in names))
        for row in self.window:
            found = self.pending.for_row(row)
            rows.append(tuple(shown_value(found, name, value)
                              for name, value in zip(names, row.values, strict=True)))
        self.rows = rows
        self.widen(rows[:SAMPLE] + rows[-SAMPLE:])  # both ends: a jump shows the last rows
        self.complete = self.at_end
        self._asked = False
        self._resize()

    def entry(self, index: int | None = None) -> Row | Change | None:
        """The new row (a Change) or read Row at an index (the cursor's by default)."""
        index = self.cursor_row if index is None else index
        inserted = self.inserted
        if index < len(inserted):
            return inserted[index]
        index -= len(inserted)
        return self.window[index] if 0 <= index < len(self.window) else None

    @property
    def column_name(self) -> str | None:
        return self.columns[self.cursor_column] if self.columns else None

    @property
    def position(self) -> int | None:
        """The cursor's row number in the relation (1-based), when known."""
        offset = self.cursor_row - len(self.inserted)
        if self.first_position is None or offset < 0:
            return None
        return self.first_position + offset + 1

    def marks(self, index: int) -> tuple[str | None, dict[int, str]]:
        entry = self.entry(index)
        if entry is None or self.table is None:
            return None, {}
        change = entry if isinstance(entry, Change) else self.pending.for_row(entry)
        if change is None:
            return None, {}
        if change.kind == "insert":
            row_mark = "table-grid--inserted"
        elif change.kind == "delete":
            row_mark = "table-grid--deleted"
        else:
            row_mark = None
        if change.error:
            row_mark = "table-grid--error"
        cells = {self.table.column_index(name): "table-grid--changed"
                 for name in change.values} if change.kind == "update" else {}
        return row_mark, cells

    def action_jump(self, where: str) -> None:
        self.post_message(self.Jump(where))

    def watch_cursor_row(self, row: int) -> None:
        super().watch_cursor_row(row)
        self._ask_if_near_edges()

    def _ask_if_near_end(self) -> None:
        self._ask_if_near_edges()

    def _ask_if_near_edges(self) -> None:
        if self._asked or not self.window:
            return
        offset = self.cursor_row - len(self.inserted)
        if not self.at_end and offset + MARGIN >= len(self.window):
            self._asked = True
            self.post_message(self.NeedMore())
        elif not self.at_start and offset < MARGIN:
            self._asked = True
            self.post_message(self.NeedMore(before=True))
