"""What every part of the Tables screen stands on: the relation open in the grid, reading
its rows a window at a time, its title, the tree, leaving with pending edits. The parts
(editing, jumps, moving data) build on it; the screen composes them."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.widgets import Static

from crestfall_tui.screens.base import CrestfallScreen
from crestfall_tui.services.pending import PendingChanges
from crestfall_tui.services.relations import TableInfo
from crestfall_tui.services.table_session import PAGE_SIZE, TableSession
from crestfall_tui.services.table_view import Filter, Row, TableView
from crestfall_tui.widgets.relation_tree import RelationTree
from crestfall_tui.widgets.result_grid import ResultGrid
from crestfall_tui.widgets.table_grid import TableGrid
from crestfall_tui.widgets.view_controls import ViewControls


class TablesBrowsing(CrestfallScreen):
    """A relation in the grid, read a window at a time."""

    def __init__(self, session: TableSession, pending: PendingChanges) -> None:
        super().__init__()
        self.session = session
        self.pending = pending
        self.view: TableView | None = None
        self.estimate: int | None = None
        self.exact: int | None = None
        self.history: list[TableView] = []

    @property
    def grid(self) -> TableGrid:
        return self.query_one(TableGrid)

    @work(group="tree", exit_on_error=False)
    async def load_tree(self) -> None:
        self.query_one(RelationTree).load(await self.session.relations())

    @work(group="leave", exclusive=True, exit_on_error=False)
    async def ask_to_leave(self, then: Callable[[], object]) -> None:
        """Run `then` now, or after the user agrees to drop the pending changes."""
        if self.pending:
            if not await self.confirm(f"Discard the pending changes ("
                                      f"{self.pending.summary()})?", "Discard"):
                return
            self.pending.reset()
        then()

    @work(group="open", exit_on_error=False)
    async def open(self, schema: str, name: str, filters: tuple[Filter, ...] = (),
                   remember: bool = True) -> None:
        table = await self.session.table(schema, name)
        if remember and self.view is not None:
            self.history.append(self.view)
        self.pending.reset()
        self.grid.open(table, self.pending)
        await self.show_view(TableView(table, filters=filters))
        self.grid.focus()
        self.show_details()

    async def show_view(self, view: TableView, cursor: int | None = 0) -> None:
        """Read the first page of a view (a new table, sort or filter) and its estimate."""
        rows = await self.session.page(view, "first")
        self.view = self.query_one(ViewControls).view = view
        at_end = len(rows) < PAGE_SIZE
        self.exact = len(rows) if at_end else None  # all of it fits on the first page
        self.grid.show(rows, at_start=True, at_end=at_end, cursor=cursor)
        self.show_title()
        self.estimate = await self.session.estimate(view)
        self.show_title()

    @on(ResultGrid.NeedMore)
    def need_more(self, event: ResultGrid.NeedMore) -> None:
        self.fetch(before=event.before)

    @work(group="fetch", exit_on_error=False)
    async def fetch(self, before: bool) -> None:
        view, grid = self.view, self.grid
        if view is None or not grid.window:
            return
        anchor = grid.window[0] if before else grid.window[-1]
        rows = await self.session.page(view, "before" if before else "after", anchor)
        if view is not self.view or anchor not in (grid.window[0], grid.window[-1]):
            return  # the view changed, or the window moved, while this was read
        if before:
            grid.prepend(rows, at_start=len(rows) < PAGE_SIZE)
        else:
            grid.append(rows, at_end=len(rows) < PAGE_SIZE)
        self.show_title()

    @on(TableGrid.Jump)
    def jump(self, event: TableGrid.Jump) -> None:
        self.jump_to(event.where)

    @work(group="fetch", exit_on_error=False)
    async def jump_to(self, where: str) -> None:
        if self.view is None:
            return
        rows = await self.session.page(self.view, where)
        first = where == "first"
        self.grid.show(rows, at_start=first or len(rows) < PAGE_SIZE,
                       at_end=not first or len(rows) < PAGE_SIZE, cursor=0 if first else None)
        self.show_title()

    @work(group="fetch", exit_on_error=False)
    async def reload_window(self) -> None:
        """The same stretch of rows again (after a commit): from the window's first row."""
        if self.view is None:
            return
        grid = self.grid
        cursor = grid.cursor_row
        if grid.window and not grid.at_start:
            rows = await self.session.page(self.view, "from", grid.window[0],
                                           max(PAGE_SIZE, len(grid.window)))
            grid.show(rows, at_start=False, at_end=len(rows) < PAGE_SIZE, cursor=cursor)
        else:
            await self.show_view(self.view, cursor)
        self.show_title()

    def show_title(self) -> None:
        view, grid = self.view, self.grid
        if view is None:
            return
        table = view.table
        count = _rows(self.exact) if self.exact is not None else \
            f"~{_rows(self.estimate)} (estimated)" if self.estimate is not None else ""
        where = grid.position
        at = f"row {where:,}" if where is not None else "row ?" if grid.rows else "no rows"
        parts = [Text(table.qualified, style="bold"), Text(f" {table.kind} · {count} · {at}")]
        if view.sort:
            parts.append(Text(" · sort " + ", ".join(
                f"{s.column} {'↓' if s.descending else '↑'}" for s in view.sort)))
        if view.filters:
            parts.append(Text(" · where " + " and ".join(f.label for f in view.filters),
                              style="yellow"))
        if self.session.run_as:
            parts.append(Text(f" · as {self.session.run_as.label}", style="magenta"))
        if self.pending:
            parts.append(Text(f" · pending: {self.pending.summary()}", style="bold yellow"))
        self.query_one("#tables-title", Static).update(Text.assemble(*parts))
        warning = self.read_only_reason() or table.warning
        entry = grid.entry()
        change = self.pending.for_row(entry) if isinstance(entry, Row) else entry
        if change is not None and change.error:
            warning = f"this row's change failed: {change.error}"
        shown = self.query_one("#tables-warning", Static)
        shown.update(Text(f"⚠ {warning}" if warning else ""))
        shown.display = bool(warning)

    def show_details(self) -> None:
        if self.view is not None and self.query_one("#details").display:
            self.query_one("#details-text", Static).update(details_text(self.view.table))

    def read_only_reason(self) -> str | None:
        """Why nothing here may be changed, or None."""
        if self.session.read_only:
            return "read-only: this stack (or run) is read-only; edits are off"
        if self.view is not None:
            return self.view.table.read_only_reason
        return None



def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


def details_text(table: TableInfo) -> Table:
    """The side panel: columns, key, foreign keys, indexes, constraints, triggers, RLS."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(Text(table.qualified), Text(table.kind))
    for column in table.columns:
        facts = [column.type_sql, "null" if column.nullable else "not null"]
        if column.default:
            facts.append(f"default {column.default}")
        if column.identity:
            facts.append("identity")
        if column.generated:
            facts.append("generated")
        grid.add_row(Text(column.name), Text(", ".join(facts), style="dim"))
    grid.add_row(Text("primary key"), Text(", ".join(table.primary_key) or "none"))
    for key in table.references:
        grid.add_row(Text("references"), Text(f"({', '.join(key.columns)}) → {key.ref_schema}."
                                              f"{key.ref_table} ({', '.join(key.ref_columns)})"))
    for key in table.referenced_by:
        grid.add_row(Text("referenced by"), Text(f"{key.schema}.{key.table} "
                                                 f"({', '.join(key.columns)})"))
    rls = "on" + (" (forced)" if table.rls_forced else "") if table.rls_enabled else "off"
    grid.add_row(Text("row level security"), Text(rls, style="green" if table.rls_enabled
                                                  else "yellow"))
    for detail in table.details:
        grid.add_row(Text(detail.kind), Text(f"{detail.name}: {detail.definition}"))
    return grid

