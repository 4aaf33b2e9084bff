"""Editing the table in the grid: cells, new rows, deletions, all pending until one commit;
undo and revert; the SQL to review; conflicts. A part of the Tables section that wraps the
grid and owns the edit keys, hidden where nothing may be written (a read-only stack, a view
Postgres cannot update). After a commit it says so (`Committed`), and the rows are read
again by whoever shows them."""

from __future__ import annotations

from textual import on, work
from textual.binding import Binding
from textual.message import Message

from crestfall_tui.modals.reading import TextModal
from crestfall_tui.screens.tables.cell_editor import CellEditorModal
from crestfall_tui.screens.tables.conflict import ConflictModal
from crestfall_tui.screens.tables.row_form import RowFormModal
from crestfall_tui.services.pending import DEFAULT, Change, PendingChanges, Value
from crestfall_tui.services.relations import ColumnInfo
from crestfall_tui.services.table_edits import CommitError, Conflict
from crestfall_tui.services.table_session import TableSession
from crestfall_tui.services.table_view import Row, TableView
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.table_grid import TableGrid

EDIT_ACTIONS = {"edit_cell", "set_null", "set_default", "insert_row", "duplicate_row",
                "toggle_delete", "undo", "revert_cell", "revert_row", "review", "commit"}


class TableEditor(Pane):
    """The grid's edits, pending in `pending` until ctrl+s commits them."""

    class Committed(Message):
        """Changes were written (or a conflict resolved by taking theirs): read the rows
        again."""

    BINDINGS = [
        Binding("n", "set_null", "NULL", show=False, tooltip="Set the cell to NULL",
                id="tables.null"),
        Binding("D", "set_default", "DEFAULT", show=False, tooltip="Set the cell to DEFAULT",
                id="tables.default"),
        Binding("o", "insert_row", "New row", tooltip="Add a row (a form, defaults shown)",
                id="tables.insert"),
        Binding("O", "duplicate_row", "Duplicate", show=False,
                tooltip="A new row with this row's values", id="tables.duplicate"),
        Binding("d", "toggle_delete", "Delete", tooltip="Mark or unmark the row for deletion",
                id="tables.delete"),
        Binding("u", "undo", "Undo", show=False, tooltip="Undo the last change",
                id="tables.undo"),
        Binding("x", "revert_cell", "Revert cell", show=False, id="tables.revert_cell"),
        Binding("X", "revert_row", "Revert row", show=False, id="tables.revert_row"),
        Binding("w", "review", "Review SQL", tooltip="The statements a commit will run",
                id="tables.review"),
        Binding("ctrl+s", "commit", "Commit", tooltip="Run the pending changes in one "
                "transaction", id="tables.commit"),
    ]

    def __init__(self, session: TableSession, pending: PendingChanges, *,
                 id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.session = session
        self.pending = pending
        self._view: TableView | None = None

    @property
    def view(self) -> TableView | None:
        """The view in the grid (set by whoever opens one)."""
        return self._view

    @view.setter
    def view(self, view: TableView | None) -> None:
        self._view = view
        self.grid.editable = view is not None and self.read_only_reason() is None
        self.grid.refresh_bindings()
        self.refresh_bindings()

    @on(TableGrid.EditWanted)
    def edit_wanted(self) -> None:
        self.action_edit_cell()

    @property
    def grid(self) -> TableGrid:
        return self.query_one(TableGrid)

    def read_only_reason(self) -> str | None:
        """Why nothing here may be changed, or None."""
        if self.session.read_only:
            return "read-only: this stack (or run) is read-only; edits are off"
        if self.view is not None:
            return self.view.table.read_only_reason
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in EDIT_ACTIONS:
            return self.view is not None and self.read_only_reason() is None
        return True

    def _target(self) -> tuple[Row | Change, ColumnInfo] | None:
        """The row (read, or new) and column under the cursor."""
        entry, name = self.grid.entry(), self.grid.column_name
        if self.view is None or entry is None or name is None:
            return None
        return entry, self.view.table.column(name)

    def _may_change(self, entry: Row | Change, column: ColumnInfo | None) -> bool:
        table = self.view.table if self.view else None
        if table is None:
            return False
        problem = None
        if isinstance(entry, Row) and not table.can_update:
            problem = f"Postgres cannot update rows of {table.qualified}"
        elif column is not None and not column.writable:
            problem = f"{column.name} is {'generated' if column.generated else 'an identity'}" \
                " column: Postgres sets it"
        elif isinstance(entry, Row) and (change := self.pending.for_row(entry)) and \
                change.kind == "delete":
            problem = "this row is marked for deletion (d unmarks it)"
        if problem:
            self.notify(problem, severity="warning")
        return problem is None

    def _set(self, entry: Row | Change, column: ColumnInfo, value: Value) -> None:
        assert self.view is not None
        original = None if isinstance(entry, Change) else \
            entry.values[self.view.table.column_index(column.name)]
        self.pending.set_cell(entry, column.name, value, original)
        self.changed()

    def changed(self) -> None:
        """The pending changes changed: the grid is told, and draws them."""
        self.grid.post_message(TableGrid.PendingChanged())

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_edit_cell(self) -> None:
        target = self._target()
        if target is None or not self._may_change(*target):
            return
        entry, column = target
        shown = self.grid.rows[self.grid.cursor_row][self.grid.cursor_column]
        current = None if shown is None else str(shown)
        if isinstance(entry, Change) and column.name not in entry.values:
            current = None
        if column.base_type == "bool" and not column.is_array:
            self._set(entry, column, "false" if current in ("t", "true") else "true")
            return
        text = await self.app.push_screen_wait(
            CellEditorModal(column, current, self.session.check_value))
        if text is not None:
            self._set(entry, column, text)

    def action_set_null(self) -> None:
        target = self._target()
        if target is None or not self._may_change(*target):
            return
        entry, column = target
        if not column.nullable:
            self.notify(f"{column.name} is NOT NULL", severity="warning")
            return
        self._set(entry, column, None)

    def action_set_default(self) -> None:
        target = self._target()
        if target is not None and self._may_change(target[0], None):
            self._set(target[0], target[1], DEFAULT)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_insert_row(self, values: dict[str, str] | None = None) -> None:
        if self.view is None:
            return
        table = self.view.table
        if not table.can_insert:
            self.notify(f"Postgres cannot insert into {table.qualified}", severity="warning")
            return
        given = await self.app.push_screen_wait(
            RowFormModal(table, self.session.check_value, values))
        if given is not None:
            self.pending.insert(dict(given))
            self.grid.cursor_row = len(self.grid.inserted) - 1
            self.changed()

    def action_duplicate_row(self) -> None:
        """The form, filled with this row's values (not its key where that has a default)."""
        entry = self.grid.entry()
        if self.view is None or not isinstance(entry, Row):
            return
        table = self.view.table
        values = {column.name: value for column, value in zip(table.columns, entry.values,
                                                                strict=True)
                  if value is not None and column.writable
                  and not (column.name in table.primary_key and column.has_default)}
        self.action_insert_row(values)

    def action_toggle_delete(self) -> None:
        entry = self.grid.entry()
        if self.view is None or entry is None:
            return
        if isinstance(entry, Row) and not self.view.table.can_delete:
            self.notify(f"Postgres cannot delete rows of {self.view.table.qualified}",
                        severity="warning")
            return
        self.pending.toggle_delete(entry)
        self.changed()

    def action_undo(self) -> None:
        if not self.pending.undo():
            self.notify("nothing to undo", timeout=2)
        self.changed()

    def action_revert_cell(self) -> None:
        target = self._target()
        if target is not None and self.pending.revert(target[0], target[1].name):
            self.changed()

    def action_revert_row(self) -> None:
        entry = self.grid.entry()
        if entry is not None and self.pending.revert(entry):
            self.changed()

    @work(group="commit", exit_on_error=False)
    async def action_review(self) -> None:
        if self.view is None:
            return
        if not self.pending:
            self.notify("no pending changes", timeout=2)
            return
        statements = await self.session.describe(self.view.table, self.pending)
        text = "BEGIN;\n" + "\n".join(statements) + "\nCOMMIT;"
        self.app.push_screen(TextModal("What ctrl+s will run, in one transaction", text,
                                       "sql"))

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_commit(self) -> None:
        if not self.pending:
            self.notify("no pending changes", timeout=2)
            return
        counts = self.pending.counts()
        question = f"Commit {self.pending.summary()} in one transaction?"
        if counts["delete"]:
            question += f"\n\nThis DELETES {counts['delete']} row(s)."
        if await self.confirm(question, "Commit"):
            self.commit()

    @work(group="commit", exit_on_error=False)
    async def commit(self) -> None:
        assert self.view is not None
        table = self.view.table
        try:
            done = await self.session.commit(table, self.pending)
        except Conflict as conflict:
            self.changed()
            choice = await self.app.push_screen_wait(
                ConflictModal(table, conflict.change, conflict.current))
            self.resolve(conflict, choice)
            return
        except CommitError as failed:
            self.changed()
            self._cursor_to(failed.change)
            self.notify(failed.message, title=failed.title, severity="error", timeout=10,
                        markup=False)
            return
        summary = ", ".join(f"{step.change.kind.upper()} {rows}" for step, rows in done)
        self.notify(f"committed: {summary}", title="Commit")
        self.changed()
        self.post_message(self.Committed())

    def resolve(self, conflict: Conflict, choice: str | None) -> None:
        """Keep mine (on the current row), take theirs, or decide later."""
        change = conflict.change
        if choice == "mine" and conflict.current is not None:
            self.pending.rebase(change, conflict.current)
            self.notify("yours now applies to the current row: ctrl+s commits it")
        elif choice == "mine":
            self.notify("the row is gone: your change can only be dropped (t) or kept",
                        severity="warning")
        elif choice == "theirs":
            self.pending.revert(change)
            self.post_message(self.Committed())
        self.changed()

    def _cursor_to(self, change: Change) -> None:
        for index in range(len(self.grid.rows)):
            entry = self.grid.entry(index)
            if entry is change or (isinstance(entry, Row) and change.row is not None
                                   and entry.identity == change.row.identity):
                self.grid.cursor_row = index
                return
