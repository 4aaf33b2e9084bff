"""The keys that change which rows of a table the grid shows: sort, filters (structured, or
"rows like this cell"), clear. They hold around the grid (keys pressed on it reach them)
and post the new view; the screen reads its rows."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message

from crestfall_tui.modals.picker import PickerModal
from crestfall_tui.modals.prompt import PromptModal
from crestfall_tui.services.table_view import OPERATORS, UNARY, Filter, Row, TableView
from crestfall_tui.widgets.table_grid import TableGrid


class ViewControls(Horizontal):
    """Sort and filter the table the grid inside shows."""

    BINDINGS = [
        Binding("s", "sort", "Sort", tooltip="Sort by the column: ascending, descending, off "
                "(several columns add up)", id="tables.sort"),
        Binding("f", "filter", "Filter", tooltip="Add a filter: column, operator, value",
                id="tables.filter"),
        Binding("equals_sign", "quick_filter", "Rows like this", show=False,
                tooltip="Only rows whose column equals this cell", id="tables.quick_filter"),
        Binding("F", "clear_filters", "Clear filters", show=False, id="tables.clear_filters"),
    ]

    @dataclass
    class Changed(Message):
        """The rows to show are those of this view now."""

        view: TableView

    view: TableView | None = None
    """What the grid shows; set by the screen."""

    @property
    def grid(self) -> TableGrid:
        return self.query_one(TableGrid)

    def action_sort(self) -> None:
        column = self.grid.column_name
        if self.view is not None and column is not None:
            self.post_message(self.Changed(self.view.sort_toggled(column)))

    @work(group="filter", exclusive=True, exit_on_error=False)
    async def action_filter(self) -> None:
        """Column, then operator, then (unless the operator takes none) the value."""
        if self.view is None:
            return
        view = self.view
        names = [column.name for column in view.table.columns]
        current = self.grid.column_name or names[0]
        ordered = [current] + [name for name in names if name != current]
        column = await self.app.push_screen_wait(PickerModal("Filter on column", lambda search: [
            (name, name) for name in ordered if search.lower() in name.lower()]))
        if column is None:
            return
        operator = await self.app.push_screen_wait(PickerModal(
            f"{column}: operator", lambda search: [(op, op) for op in OPERATORS if search in op]))
        if operator is None:
            return
        value = None
        if operator not in UNARY:
            hint = " (comma-separated)" if operator == "in" else ""
            value = await self.app.push_screen_wait(PromptModal(f"{column} {operator} …{hint}"))
            if value is None:
                return
        self.post_message(self.Changed(view.filtered(Filter(column, operator, value))))

    def action_quick_filter(self) -> None:
        entry, column = self.grid.entry(), self.grid.column_name
        if self.view is None or not isinstance(entry, Row) or column is None:
            return
        value = entry.values[self.view.table.column_index(column)]
        self.post_message(self.Changed(self.view.filtered(
            Filter(column, "is null") if value is None else Filter(column, "=", value))))

    def action_clear_filters(self) -> None:
        if self.view is not None and self.view.filters:
            self.post_message(self.Changed(self.view.unfiltered()))
