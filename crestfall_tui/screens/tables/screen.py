"""Tables (F2): the schema tree, and a grid onto the selected relation that fetches only
the window it shows: sort, filters, foreign-key jumps, a details panel, view as a role,
export and import. Editing is in `tables_editing.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, ProgressBar, Static, Tree

from crestfall_tui.modals.cell import on_cell_action
from crestfall_tui.screens.tables.editing import TablesEditing
from crestfall_tui.screens.tables.navigation import TablesNavigation
from crestfall_tui.screens.tables.transfer import TablesTransfer
from crestfall_tui.services.action_log import ActionLog
from crestfall_tui.services.pending import PendingChanges
from crestfall_tui.services.relations import Relation, TableInfo
from crestfall_tui.services.table_session import PAGE_SIZE, TableSession
from crestfall_tui.services.table_view import Filter, Row, TableView
from crestfall_tui.widgets.relation_tree import RelationTree
from crestfall_tui.widgets.result_grid import ResultGrid
from crestfall_tui.widgets.table_grid import TableGrid
from crestfall_tui.widgets.view_controls import ViewControls


class TablesScreen(TablesNavigation, TablesTransfer):
    """Browse any relation of any size; edit it from the keyboard."""

    CSS_PATH = "tables.tcss"
    SECTION = "Tables"
    ABOUT = ("The schema tree on the left, the table's rows on the right. Edits stay pending "
             "(amber, green, struck through) until ctrl+s commits them in one transaction.")
    BINDINGS = [
        Binding("slash", "search_tree", "Find table", tooltip="Filter the schema tree",
                id="tables.search"),
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
        Binding("a", "view_as", "View as", show=False, tooltip="Browse and edit as anon, "
                "authenticated, service_role or an auth user (RLS applies)",
                id="tables.view_as"),
        Binding("E", "export", "Export", show=False, tooltip="The view to .csv or .jsonl",
                id="tables.export"),
        Binding("I", "import_csv", "Import", show=False, tooltip="Load a CSV file",
                id="tables.import"),
        Binding("L", "action_log", "Action log", show=False,
                tooltip="Every write the studio committed on this stack", id="tables.log"),
        Binding("r", "reload", "Reload", show=False, tooltip="Read the tree and rows again",
                id="tables.reload"),
        *TablesEditing.EDIT_BINDINGS,
    ]

    def __init__(self, session: TableSession, pending: PendingChanges,
                 actions_log: ActionLog) -> None:
        super().__init__()
        self.session = session
        self.pending = pending
        self.actions_log = actions_log
        self.view: TableView | None = None
        self.estimate: int | None = None
        self.exact: int | None = None
        self.history: list[TableView] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="tables-body"):
            with Vertical(id="tables-left"):
                yield Input(placeholder="/ find a table", id="tree-search")
                yield RelationTree(id="tree")
            with Vertical(id="tables-right"):
                yield Static("Pick a table on the left (enter opens it).", id="tables-title")
                yield Static("", id="tables-warning")
                yield ProgressBar(id="tables-progress", show_eta=False)
                with ViewControls(id="view-controls"):
                    yield TableGrid(id="grid")
                    yield VerticalScroll(Static(id="details-text"), id="details")
        yield Footer()

    @property
    def grid(self) -> TableGrid:
        return self.query_one(TableGrid)

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Tables: export the rows to a file",
                            "The view, with its filters and sort, to .csv or .jsonl",
                            self.action_export)
        yield SystemCommand("Tables: import a CSV file", "Preview, map columns, load",
                            self.action_import_csv)
        yield SystemCommand("Tables: action log", "Every write the studio committed",
                            self.action_action_log)
        yield SystemCommand("Tables: view as a role or user", "RLS applies",
                            self.action_view_as)

    def unsaved_work(self) -> list[str]:
        if self.pending:
            return [f"Table edits are pending ({self.pending.summary()}); they will be lost."]
        return []

    def on_mount(self) -> None:
        self.query_one(RelationTree).focus()
        self.watch(self.grid, "cursor_row", lambda _: self.show_title(), init=False)
        self.watch(self.grid, "cursor_column", lambda _: self.show_title(), init=False)
        self.load_tree()

    async def on_unmount(self) -> None:
        await self.session.close()

    @on(ViewControls.Changed)
    def view_changed(self, event: ViewControls.Changed) -> None:
        """A new sort or filter: rows are read again, pending changes stay."""
        self.change_view(event.view)

    def database_changed(self) -> None:
        self.view = self.query_one(ViewControls).view = None
        self.history.clear()
        self.grid.start([])
        self.load_tree()

    @work(group="tree", exit_on_error=False)
    async def load_tree(self) -> None:
        self.query_one(RelationTree).load(await self.session.relations())

    # The tree

    def action_search_tree(self) -> None:
        self.set_focus(self.query_one("#tree-search", Input))

    @on(Input.Changed, "#tree-search")
    def search_changed(self, event: Input.Changed) -> None:
        self.query_one(RelationTree).set_search(event.value)

    @on(Input.Submitted, "#tree-search")
    def search_done(self) -> None:
        """Enter in the search opens the first match."""
        tree = self.query_one(RelationTree)
        first = tree.first_match()
        if first is None or first.data is None:
            tree.focus()
            return
        relation = first.data  # the grid takes the focus once it is open
        self.ask_to_leave(lambda: self.open(relation.schema, relation.name))

    @on(Tree.NodeSelected, "#tree")
    def relation_chosen(self, event: Tree.NodeSelected[Relation | None]) -> None:
        relation = event.node.data
        if relation is not None:
            self.ask_to_leave(lambda: self.open(relation.schema, relation.name))

    @work(group="leave", exclusive=True, exit_on_error=False)
    async def ask_to_leave(self, then: Callable[[], object]) -> None:
        """Run `then` now, or after the user agrees to drop the pending changes."""
        if self.pending:
            if not await self.confirm(f"Discard the pending changes ("
                                      f"{self.pending.summary()})?", "Discard"):
                return
            self.pending.reset()
        then()

    # Opening and paging

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
    # Details, roles, moving data

    def action_toggle_details(self) -> None:
        details = self.query_one("#details")
        details.display = not details.display
        self.show_details()

    def show_details(self) -> None:
        if self.view is not None and self.query_one("#details").display:
            self.query_one("#details-text", Static).update(details_text(self.view.table))

    def action_reload(self) -> None:
        self.load_tree()
        if self.view is not None:
            self.open(self.view.table.schema, self.view.table.name, self.view.filters,
                      remember=False)

    @on(ResultGrid.CellAction)
    def cell_action(self, event: ResultGrid.CellAction) -> None:
        on_cell_action(self, event)


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

