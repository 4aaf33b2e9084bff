"""The Audit tab: which tables `audit.track()` records, tracking or untracking one, and the
latest recorded changes for the selected table (or for one user), newest first and paged
by key."""

from __future__ import annotations

import json

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable

from crestfall_tui.modals import PromptModal, TextModal
from crestfall_tui.screens.users.shown import when
from crestfall_tui.services.audit import Audit, Change, TrackedTable
from crestfall_tui.services.users import Users
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.text_table import TextTable


class AuditPane(Pane):
    """Tables on the left, the changes recorded for the selected one on the right."""

    BINDINGS = [
        Binding("t", "track", "Track", tooltip="Record every change to the selected table",
                id="audit.track"),
        Binding("U", "untrack", "Untrack", show=False, id="audit.untrack"),
        Binding("w", "by_user", "By user", tooltip="The changes one auth user made (empty: "
                "back to the table's)", id="audit.by_user"),
        Binding("r", "reload", "Reload", id="audit.reload"),
    ]

    def __init__(self, audit: Audit, users: Users, *,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.audit = audit
        self.users = users
        self.tables: list[TrackedTable] = []
        self.changes: list[Change] = []
        self.actor: tuple[str, str] | None = None
        self._more = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="audit-body"):
            yield TextTable(id="audit-tables")
            yield TextTable(id="audit-changes")

    def on_mount(self) -> None:
        tables = self.query_one("#audit-tables", DataTable)
        tables.add_columns("table", "tracked")
        tables.border_title = "Tables"
        self.query_one("#audit-changes", DataTable).add_columns(
            "id", "when", "op", "columns", "by", "as role")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in ("track", "untrack") and self.audit.postgres.read_only)

    def action_reload(self) -> None:
        self.load()

    @property
    def table(self) -> TrackedTable | None:
        row = self.query_one("#audit-tables", DataTable).cursor_row
        return self.tables[row] if 0 <= row < len(self.tables) else None

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        self.tables = await self.audit.tables()
        self.query_one("#audit-tables", TextTable).replace_rows(
            (table.table, (table.table, ("yes" if table.enabled else "disabled")
                           if table.tracked else "-")) for table in self.tables)
        self.load_changes()

    @on(DataTable.RowHighlighted, "#audit-tables")
    def table_highlighted(self) -> None:
        if self.actor is None:
            self.load_changes()

    @on(DataTable.RowHighlighted, "#audit-changes")
    def change_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._more and event.cursor_row >= len(self.changes) - 10:
            self._more = False
            self.load_changes(more=True)

    @work(group="changes", exclusive=True, exit_on_error=False)
    async def load_changes(self, more: bool = False) -> None:
        table = self.table
        shown = self.query_one("#audit-changes", DataTable)
        if not more:
            self.changes = []
            shown.clear()
        if self.actor is None and table is None:
            return
        before = self.changes[-1].id if more and self.changes else None
        found = await (self.audit.changes(actor=self.actor[0], before=before)
                       if self.actor else self.audit.changes(table=table.table if table
                                                             else None, before=before))
        self._more = len(found) == 100
        for change in found:
            self.changes.append(change)
            shown.add_row(str(change.id), when(change.changed_at), change.op,
                          ", ".join(change.changed_columns())[:40], change.actor or "-",
                          change.db_role)
        whose = f"by {self.actor[1]}" if self.actor else f"to {table.table if table else '-'}"
        shown.border_title = f"Changes {whose}, newest first: {len(self.changes):,}" \
                             f"{'+' if self._more else ''}"

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_track(self) -> None:
        table = self.table
        if table is not None and await self.confirm(
                f"Record every insert, update and delete on {table.table} from now on (old "
                "and new rows in audit.record_changes)?", "Track"):
            await self.audit.track(table.table)
            self._changed(f"tracking {table.table}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_untrack(self) -> None:
        table = self.table
        if table is not None and table.tracked and await self.confirm(
                f"Stop recording changes to {table.table}? (What was recorded stays.)",
                "Untrack"):
            await self.audit.untrack(table.table)
            self._changed(f"no longer tracking {table.table}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_by_user(self) -> None:
        answer = await self.app.push_screen_wait(PromptModal(
            "The changes made by the auth user (email or id; empty: the table's):",
            empty_allowed=True))
        if answer is None:
            return
        if answer.strip():
            user = await self.users.find(answer)
            self.actor = (user.id, user.email or user.phone or user.id)
        else:
            self.actor = None
        self.load_changes()

    @on(DataTable.RowSelected, "#audit-changes")
    def show_change(self) -> None:
        """Enter on a change: it in full. (The table takes enter itself, as RowSelected; a
        binding of the pane's never saw it.)"""
        row = self.query_one("#audit-changes", DataTable).cursor_row
        if 0 <= row < len(self.changes):
            change = self.changes[row]
            self.app.push_screen(TextModal(
                f"Change {change.id}: {change.op} on {change.table}",
                json.dumps(change.to_json(), indent=2, ensure_ascii=False), "json"))

    def _changed(self, said: str) -> None:
        self.notify(said, title="Audit")
        self.load()
