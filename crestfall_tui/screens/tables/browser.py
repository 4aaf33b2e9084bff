"""The right-hand side of the Tables section: the relation open in the grid, read a window
at a time, its title, the details panel, and finding rows (go to a key, foreign-key jumps
and back, an exact count). Sort and filters are the ViewControls widget's, edits the
TableEditor's; this part owns the navigation keys."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import ProgressBar, Static

from crestfall_tui.modals.picker import PickerModal
from crestfall_tui.modals.prompt import PromptModal
from crestfall_tui.screens.tables.editor import TableEditor
from crestfall_tui.services.pending import PendingChanges
from crestfall_tui.services.relations import TableInfo
from crestfall_tui.services.table_session import PAGE_SIZE, TableSession
from crestfall_tui.services.table_view import Filter, Row, TableView
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.result_grid import ResultGrid
from crestfall_tui.widgets.table_grid import TableGrid
from crestfall_tui.widgets.view_controls import ViewControls


class TableBrowser(Pane):
    """A relation in the grid, read a window at a time."""

    BINDINGS = [
        Binding("g", "go_to_key", "Go to key", show=False,
                tooltip="Jump to the row with a primary key", id="tables.go"),
        Binding("j", "follow_key", "Referenced row", show=False,
                tooltip="Open the row this foreign key points to", id="tables.follow"),
        Binding("J", "referencing", "Referencing rows", show=False,
                tooltip="Rows in other tables that point to this one", id="tables.referencing"),
        Binding("backspace", "back", "Back", show=False, tooltip="Where you were before a jump",
                id="tables.back"),
        Binding("c", "count", "Exact count", show=False, tooltip="Count the rows (full scan)",
                id="tables.count"),
        Binding("i", "toggle_details", "Details", show=False,
                tooltip="Columns, indexes, constraints, triggers, RLS", id="tables.details"),
    ]

    def __init__(self, session: TableSession, pending: PendingChanges, *,
                 id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.session = session
        self.pending = pending
        self.view: TableView | None = None
        self.estimate: int | None = None
        self.exact: int | None = None
        self.history: list[TableView] = []

    def compose(self) -> ComposeResult:
        yield Static("Pick a table on the left (enter opens it).", id="tables-title")
        yield Static("", id="tables-warning")
        yield ProgressBar(id="tables-progress", show_eta=False)
        with TableEditor(self.session, self.pending, id="editor"), \
                ViewControls(id="view-controls"):
            yield TableGrid(id="grid")
            yield VerticalScroll(Static(id="details-text"), id="details")

    def on_mount(self) -> None:
        self.watch(self.grid, "cursor_row", lambda _: self.show_title(), init=False)
        self.watch(self.grid, "cursor_column", lambda _: self.show_title(), init=False)

    @property
    def grid(self) -> TableGrid:
        return self.query_one(TableGrid)

    @property
    def editor(self) -> TableEditor:
        return self.query_one(TableEditor)

    def _set_view(self, view: TableView | None) -> None:
        self.view = self.query_one(ViewControls).view = self.editor.view = view

    def forget(self) -> None:
        """Another database: nothing is open."""
        self._set_view(None)
        self.history.clear()
        self.grid.start([])

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
        self._set_view(view)
        at_end = len(rows) < PAGE_SIZE
        self.exact = len(rows) if at_end else None  # all of it fits on the first page
        self.grid.show(rows, at_start=True, at_end=at_end, cursor=cursor)
        self.show_title()
        self.estimate = await self.session.estimate(view)
        self.show_title()

    @on(ViewControls.Changed)
    def view_changed(self, event: ViewControls.Changed) -> None:
        """A new sort or filter: rows are read again, pending changes stay."""
        self.apply_view(event.view)

    @work(group="fetch", exit_on_error=False)
    async def apply_view(self, view: TableView) -> None:
        await self.show_view(view)

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

    @on(TableEditor.Committed)
    def committed(self) -> None:
        self.reload_window()

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

    @on(TableGrid.PendingChanged)
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
        warning = self.editor.read_only_reason() or table.warning
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

    def action_toggle_details(self) -> None:
        details = self.query_one("#details")
        details.display = not details.display
        self.screen.set_class(details.display, "-details")
        self.show_details()

    # --- finding rows ---------------------------------------------------------------------

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_go_to_key(self) -> None:
        view = self.view
        if view is None:
            return
        key = view.table.primary_key
        if not key:
            self.notify("this relation has no primary key to go to", severity="warning")
            return
        text = await self.app.push_screen_wait(PromptModal(
            f"Go to the row where {', '.join(key)} = "))
        if text is None:
            return
        values = [part.strip() for part in text.split(",")] if len(key) > 1 else [text]
        if len(values) != len(key):
            self.notify(f"give {len(key)} values: {', '.join(key)}", severity="error")
            return
        self.go_to(dict(zip(key, values, strict=True)))

    @work(group="fetch", exit_on_error=False)
    async def go_to(self, key: dict[str, str]) -> None:
        assert self.view is not None
        row = await self.session.row_where(self.view, key)
        if row is None:
            wanted = ", ".join(f"{k} = {v}" for k, v in key.items())
            self.notify(f"no row where {wanted}" + (" within the filters" if self.view.filters
                                                    else ""), severity="warning")
            return
        rows = await self.session.page(self.view, "from", row)
        self.grid.show(rows, at_start=False, at_end=len(rows) < PAGE_SIZE, cursor=0)
        self.show_title()

    def action_follow_key(self) -> None:
        view, entry, column = self.view, self.grid.entry(), self.grid.column_name
        if view is None or not isinstance(entry, Row) or column is None:
            return
        key = next((fk for fk in view.table.references if column in fk.columns), None)
        if key is None:
            self.notify(f"{column} is not part of a foreign key", severity="warning")
            return
        values = [entry.values[view.table.column_index(c)] for c in key.columns]
        if None in values:
            self.notify("a NULL foreign key references no row", severity="warning")
            return
        self.open(key.ref_schema, key.ref_table, tuple(
            Filter(name, "=", value) for name, value in zip(key.ref_columns, values,
                                                              strict=True)))

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_referencing(self) -> None:
        view, entry = self.view, self.grid.entry()
        if view is None or not isinstance(entry, Row):
            return
        keys = list(view.table.referenced_by)
        if not keys:
            self.notify(f"no foreign key references {view.table.qualified}",
                        severity="warning")
            return
        choices = [(f"{k.schema}.{k.table} ({', '.join(k.columns)}) via {k.name}", str(i))
                   for i, k in enumerate(keys)]
        index = await self.app.push_screen_wait(PickerModal(
            "Rows that reference this one, in",
            lambda search: [c for c in choices if search.lower() in c[0].lower()]))
        if index is None:
            return
        key = keys[int(index)]
        values = [entry.values[view.table.column_index(c)] for c in key.ref_columns]
        self.open(key.schema, key.table, tuple(
            Filter(name, "=", value) if value is not None else Filter(name, "is null")
            for name, value in zip(key.columns, values, strict=True)))

    def action_back(self) -> None:
        if not self.history:
            return
        previous = self.history.pop()
        self.ask_to_leave(lambda: self.open(previous.table.schema, previous.table.name,
                                            previous.filters, remember=False))

    @work(group="count", exit_on_error=False)
    async def action_count(self) -> None:
        if self.view is not None:
            self.notify("counting…", timeout=2)
            self.exact = await self.session.count(self.view)
            self.show_title()


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
