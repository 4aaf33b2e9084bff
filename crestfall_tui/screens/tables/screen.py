"""Tables (F2): the schema tree, and a browser onto the selected relation that fetches only
the window it shows. The browser (`browser.py`) reads and finds rows, the editor inside it
(`editor.py`) keeps the edits, the view controls sort and filter; the screen decides which
relation opens, and moves data in and out (view as a role, export, import)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input, ProgressBar, Tree

from crestfall_tui.modals.cell import on_cell_action
from crestfall_tui.modals.prompt import PromptModal, typed_path
from crestfall_tui.modals.run_as import ask_run_as
from crestfall_tui.screens.base import CrestfallScreen, ShowRows
from crestfall_tui.screens.tables.browser import TableBrowser
from crestfall_tui.screens.tables.csv_import import ImportModal
from crestfall_tui.services.csv_import import CsvPlan, read_plan
from crestfall_tui.services.pending import PendingChanges
from crestfall_tui.services.relations import Relation, TableInfo
from crestfall_tui.services.table_session import TableSession
from crestfall_tui.services.table_view import Filter, TableView
from crestfall_tui.widgets.relation_tree import RelationTree
from crestfall_tui.widgets.result_grid import ResultGrid
from crestfall_tui.widgets.table_grid import TableGrid


class TablesScreen(CrestfallScreen):
    """Browse any relation of any size; edit it from the keyboard."""

    CSS_PATH = "tables.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    """Below 120 columns the details panel takes the tree's place, so the grid keeps room."""
    SECTION = "Tables"
    ABOUT = ("The schema tree on the left, the table's rows on the right. Edits stay pending "
             "(amber, green, struck through) until ctrl+s commits them in one transaction.")
    BINDINGS = [
        Binding("slash", "search_tree", "Find table", tooltip="Filter the schema tree",
                id="tables.search"),
        Binding("a", "view_as", "View as", show=False, tooltip="Browse and edit as anon, "
                "authenticated, service_role or an auth user (RLS applies)",
                id="tables.view_as"),
        Binding("E", "export", "Export", show=False, tooltip="The view to .csv or .jsonl",
                id="tables.export"),
        Binding("I", "import_csv", "Import", show=False, tooltip="Load a CSV file",
                id="tables.import"),
        Binding("L", "app.action_log", "Action log", show=False,
                tooltip="Every write the studio committed on this stack", id="tables.log"),
        Binding("r", "reload", "Reload", show=False, tooltip="Read the tree and rows again",
                id="tables.reload"),
    ]

    def __init__(self, session: TableSession, pending: PendingChanges) -> None:
        super().__init__()
        self.session = session
        self.pending = pending

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="tables-body"):
            with Vertical(id="tables-left"):
                yield Input(placeholder="/ find a table", id="tree-search")
                yield RelationTree(id="tree")
            yield TableBrowser(self.session, self.pending, id="tables-right")
        yield Footer()

    @property
    def browser(self) -> TableBrowser:
        return self.query_one(TableBrowser)

    @property
    def view(self) -> TableView | None:
        """The view open in the browser."""
        return self.browser.view

    @property
    def grid(self) -> TableGrid:
        return self.browser.grid

    def open(self, schema: str, name: str, filters: tuple[Filter, ...] = ()) -> None:
        self.browser.open(schema, name, filters)

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Tables: export the rows to a file",
                            "The view, with its filters and sort, to .csv or .jsonl",
                            self.action_export)
        yield SystemCommand("Tables: import a CSV file", "Preview, map columns, load",
                            self.action_import_csv)
        yield SystemCommand("Tables: view as a role or user", "RLS applies",
                            self.action_view_as)

    def unsaved_work(self) -> list[str]:
        if self.pending:
            return [f"Table edits are pending ({self.pending.summary()}); they will be lost."]
        return []

    def on_mount(self) -> None:
        self.query_one(RelationTree).focus()
        self.load_tree()

    async def on_unmount(self) -> None:
        await self.session.close()

    def database_changed(self) -> None:
        self.browser.forget()
        self.load_tree()

    def show_rows(self, asked: ShowRows) -> None:
        self.open(asked.schema, asked.name, (Filter(asked.column, "=", asked.value),))

    # --- the tree -------------------------------------------------------------------------

    @work(group="tree", exit_on_error=False)
    async def load_tree(self) -> None:
        self.query_one(RelationTree).load(await self.session.relations())

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
        self._leave_for(first.data)  # the grid takes the focus once it is open

    @on(Tree.NodeSelected, "#tree")
    def relation_chosen(self, event: Tree.NodeSelected[Relation | None]) -> None:
        if event.node.data is not None:
            self._leave_for(event.node.data)

    def _leave_for(self, relation: Relation) -> None:
        self.browser.ask_to_leave(lambda: self.browser.open(relation.schema, relation.name))

    def action_reload(self) -> None:
        self.load_tree()
        if (view := self.view) is not None:
            self.browser.open(view.table.schema, view.table.name, view.filters,
                              remember=False)

    @on(ResultGrid.CellAction)
    def cell_action(self, event: ResultGrid.CellAction) -> None:
        on_cell_action(self, event)

    # --- who looks, and moving data -------------------------------------------------------

    def action_view_as(self) -> None:
        ask_run_as(self, "View as", self.session.run_as, self.change_role)

    @work(group="fetch", exit_on_error=False)
    async def change_role(self, answer: str) -> None:
        await self.session.view_as(answer)
        self.load_tree()
        if self.view is not None:
            await self.browser.show_view(self.view)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_export(self) -> None:
        view = self.view
        if view is None:
            return
        path = await self.app.push_screen_wait(PromptModal(
            "Export the rows (with the filters and sort) to a .csv or .jsonl file:",
            str(Path.cwd() / f"{view.table.name}.csv")))
        if path:
            self.export(view, typed_path(path))

    @work(group="transfer", exclusive=True, exit_on_error=False)
    async def export(self, view: TableView, path: Path) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=max(1, self.browser.estimate or 1), progress=0)

        def progress(written: int, rows: int | None) -> None:
            bar.update(progress=rows or 0)

        try:
            report = await self.session.export(view, path, progress)
        finally:
            bar.display = False
        self.notify(f"exported {report.rows:,} rows, {report.bytes_written / 1e6:.1f} MB to "
                    f"{path}", title="Export")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_import_csv(self) -> None:
        if self.view is None:
            return
        table = self.view.table
        path = await self.app.push_screen_wait(PromptModal(
            f"CSV file to load into {table.qualified} (its first line names the columns):"))
        if path:
            self.prepare_import(table, typed_path(path))

    @work(group="transfer", exclusive=True, thread=True, exit_on_error=False)
    def prepare_import(self, table: TableInfo, path: Path) -> None:
        plan = read_plan(path, table)
        self.app.call_from_thread(self.app.push_screen, ImportModal(plan, table),
                                  lambda mapped: mapped and self.load_csv(table, mapped))

    @work(group="transfer", exit_on_error=False)
    async def load_csv(self, table: TableInfo, plan: CsvPlan) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True

        def progress(sent: int, total: int) -> None:
            bar.update(total=max(1, total), progress=sent)

        try:
            loaded = await self.session.import_csv(table, plan, progress)
        finally:
            bar.display = False
        self.notify(f"loaded {loaded:,} rows from {plan.path.name}", title="Import")
        self.browser.reload_window()
