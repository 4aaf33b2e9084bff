"""Tables (F2): the schema tree, and a grid onto the selected relation that fetches only
the window it shows: sort, filters, foreign-key jumps, a details panel, view as a role,
export and import. Editing is in `tables_editing.py`."""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, ProgressBar, Static, Tree

from crestfall_tui.modals.cell import on_cell_action
from crestfall_tui.screens.base import ShowRows
from crestfall_tui.screens.tables.editing import TablesEditing
from crestfall_tui.screens.tables.navigation import TablesNavigation
from crestfall_tui.screens.tables.transfer import TablesTransfer
from crestfall_tui.services.relations import Relation
from crestfall_tui.services.table_view import Filter
from crestfall_tui.widgets.relation_tree import RelationTree
from crestfall_tui.widgets.result_grid import ResultGrid
from crestfall_tui.widgets.table_grid import TableGrid
from crestfall_tui.widgets.view_controls import ViewControls


class TablesScreen(TablesNavigation, TablesTransfer):
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
        Binding("L", "app.action_log", "Action log", show=False,
                tooltip="Every write the studio committed on this stack", id="tables.log"),
        Binding("r", "reload", "Reload", show=False, tooltip="Read the tree and rows again",
                id="tables.reload"),
        *TablesEditing.EDIT_BINDINGS,
    ]

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
        self.watch(self.grid, "cursor_row", lambda _: self.show_title(), init=False)
        self.watch(self.grid, "cursor_column", lambda _: self.show_title(), init=False)
        self.load_tree()

    async def on_unmount(self) -> None:
        await self.session.close()

    @on(TableGrid.PendingChanged)
    def pending_changed(self) -> None:
        self.show_title()

    @on(ViewControls.Changed)
    def view_changed(self, event: ViewControls.Changed) -> None:
        """A new sort or filter: rows are read again, pending changes stay."""
        self.change_view(event.view)

    def database_changed(self) -> None:
        self.view = self.query_one(ViewControls).view = None
        self.history.clear()
        self.grid.start([])
        self.load_tree()

    # The tree

    def show_rows(self, asked: ShowRows) -> None:
        self.open(asked.schema, asked.name, (Filter(asked.column, "=", asked.value),))

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

    # Opening and paging

    # Details, roles, moving data

    def action_toggle_details(self) -> None:
        details = self.query_one("#details")
        details.display = not details.display
        self.set_class(details.display, "-details")
        self.show_details()

    def action_reload(self) -> None:
        self.load_tree()
        if self.view is not None:
            self.open(self.view.table.schema, self.view.table.name, self.view.filters,
                      remember=False)

    @on(ResultGrid.CellAction)
    def cell_action(self, event: ResultGrid.CellAction) -> None:
        on_cell_action(self, event)
