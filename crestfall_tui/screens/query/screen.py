"""The Query screen: an SQL editor whose results stream into a grid as Postgres sends them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Footer, Header

from crestfall_tui.modals.cell import on_cell_action
from crestfall_tui.modals.prompt import PromptModal, typed_path
from crestfall_tui.modals.run_as import ask_run_as
from crestfall_tui.screens.base import CrestfallScreen
from crestfall_tui.screens.query.plan import PlanModal
from crestfall_tui.services.explain import explain
from crestfall_tui.services.query_history import HistoryEntry, QueryHistory
from crestfall_tui.services.query_run import QueryRun
from crestfall_tui.services.query_session import (
    QueryError,
    QuerySession,
)
from crestfall_tui.services.run_as import resolve_run_as
from crestfall_tui.services.snippets import Snippets
from crestfall_tui.services.sql_text import Statement, confirmation_reason
from crestfall_tui.widgets.query_editor import QueryEditor
from crestfall_tui.widgets.result_grid import ResultGrid
from crestfall_tui.widgets.results_panel import ResultsPanel
from crestfall_tui.widgets.sql_editor import SqlEditor


class QueryScreen(CrestfallScreen):
    """Write SQL, run it, read the rows as they arrive."""

    CSS_PATH = "query.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    AUTO_FOCUS = "#editor"
    SECTION = "Query"
    ABOUT = ("The SQL editor above, each statement's rows streaming into a tab below. "
             "Transactions run as written; the border says when one is open.")
    BINDINGS = [
        Binding("ctrl+j", "run_current", "Run", tooltip="Run the statement under the cursor",
                id="query.run", priority=True),
        Binding("f9", "run_all", "Run all", tooltip="Run every statement in the editor",
                id="query.run_all"),
        Binding("escape", "cancel", "Cancel", tooltip="Cancel the running statement",
                id="query.cancel"),
        Binding("ctrl+r", "history", "History", tooltip="Search past queries and recall one",
                id="query.history"),
        Binding("ctrl+s", "export", "Export",
                tooltip="Write the query's whole result to a .csv or .jsonl file",
                id="query.export"),
        Binding("ctrl+f", "snippets", "Snippets", tooltip="Insert a saved snippet",
                id="query.snippets"),
        Binding("ctrl+n", "run_as", "Run as",
                tooltip="Run as anon, authenticated, service_role or an auth user (RLS applies)",
                id="query.run_as"),
        Binding("ctrl+t", "toggle_manual", "Txn mode",
                tooltip="Switch between autocommit and manual transactions", id="query.txn"),
        Binding("ctrl+o", "commit", "Commit", tooltip="Commit the open transaction",
                id="query.commit"),
        Binding("ctrl+b", "rollback", "Rollback", tooltip="Roll the open transaction back",
                id="query.rollback"),
        Binding("ctrl+l", "explain(False)", "Explain",
                tooltip="The statement's plan as a tree", id="query.explain"),
        Binding("ctrl+g", "explain(True)", "Analyze",
                tooltip="EXPLAIN ANALYZE: runs it, rolled back", id="query.analyze"),
        # priority: the editor would otherwise take alt+<letter> as the letter.
        Binding("alt+n", "new_buffer", "New buffer", show=False, id="query.new_buffer",
                priority=True, tooltip="Another SQL buffer, in a tab of its own"),
        Binding("alt+w", "close_buffer", "Close buffer", show=False, id="query.close_buffer",
                priority=True, tooltip="Close this buffer (asks when it holds text)"),
        Binding("alt+right", "cycle_buffer(1)", "Next buffer", show=False,
                id="query.next_buffer", priority=True),
        Binding("alt+left", "cycle_buffer(-1)", "Previous buffer", show=False,
                id="query.previous_buffer", priority=True),
    ]

    running: reactive[bool] = reactive(False)
    """A run or an export is under way. The footer is not redrawn for it: recomposing a
    footer of this many keys took ~100 ms of the event loop, twice a run, delaying the
    first rows; the keys it disables simply do nothing, and the status line says escape
    cancels."""

    def __init__(self, session: QuerySession, history: QueryHistory,
                 snippets: Snippets) -> None:
        super().__init__()
        self.history = history
        self.snippets = snippets
        self.session = session
        self.run = QueryRun(session)
        self._started = 0.0
        self._lost = False
        """The connection was lost with a transaction open (shown until the next run)."""
        self._keys_for: tuple[bool, bool] | None = None
        """The (manual, in transaction) state the footer's keys were last shown for."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="query-body"):
            yield QueryEditor(self.history, self.snippets, self.run, id="query-editor")
            yield ResultsPanel(self.run, id="query-results")
        yield Footer()

    def commands(self) -> Iterable[SystemCommand]:
        yield from self.pane.commands()

    def unsaved_work(self) -> list[str]:
        if self.session.in_transaction:
            return ["A transaction is open in the Query screen (it will be rolled back)."]
        return []

    def on_mount(self) -> None:
        self._show_mode()
        self.set_interval(0.1, self._tick)
        self.warm_up()

    def on_screen_resume(self) -> None:
        self._show_mode()  # run-as may have been set from another section

    @work(group="warm-up", exit_on_error=False)
    async def warm_up(self) -> None:
        """Connect while the user types, so the first run starts at once."""
        await self.session.warm_up()

    def database_changed(self) -> None:
        self.pane.forget_catalog()  # completion reads the new database's catalog
        self.run.forget()  # the session's connection, and its result, are closed

    async def on_unmount(self) -> None:
        await self.run.close()
        await self.session.close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running
        if action in ("commit", "rollback"):
            return (self.session.manual or self.session.in_transaction) and not self.running
        if action == "toggle_manual":
            return None if self.running else True
        if action in ("run_current", "run_all", "explain", "export"):
            return None if self.running else True
        return True

    def action_run_current(self) -> None:
        self._run_guarded(self.pane.statements())

    def action_run_all(self) -> None:
        self._run_guarded(self.pane.statements(everything=True))

    def action_run_as(self) -> None:
        ask_run_as(self, "Run as", self.session.run_as, self.change_run_as)

    @work(group="run-as", exit_on_error=False)
    async def change_run_as(self, answer: str) -> None:
        conn = await self.session.connection()
        self.session.run_as = await resolve_run_as(conn, answer)
        self._show_mode()

    async def action_toggle_manual(self) -> None:
        await self.session.set_manual(not self.session.manual)
        self._show_mode()

    def action_commit(self) -> None:
        self.end_transaction("commit")

    def action_rollback(self) -> None:
        self.end_transaction("rollback")

    @work(exclusive=True, group="query", exit_on_error=False)
    async def end_transaction(self, how: str) -> None:
        """Commit or roll back; a connection lost meanwhile is said, never a traceback."""
        try:
            await self.run.end_transaction(how)
            self.results.say(how.upper())
        finally:
            self._show_mode()

    def _show_mode(self) -> None:
        run_as = self.session.run_as
        state = "lost" if self._lost and self.session.transaction_state == "none" else \
            self.session.transaction_state
        self.query_one(SqlEditor).show_transaction(
            state, manual=self.session.manual, who=run_as.label if run_as else None)
        shown = (self.session.manual, self.session.in_transaction)
        if shown != self._keys_for:  # commit and roll back come and go with a transaction
            self._keys_for = shown
            self.refresh_bindings()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_export(self) -> None:
        statement = self._current_statement()
        if statement is None:
            return
        path = await self.app.push_screen_wait(PromptModal(
            "Export the whole result to (.csv or .jsonl):",
            str(Path.cwd() / f"crestfall-{datetime.now():%Y%m%d-%H%M%S}.csv")))
        if path:
            self.export(statement, typed_path(path))

    @work(exclusive=True, group="query", exit_on_error=False)
    async def export(self, statement: Statement, path: Path) -> None:
        await self.run.close()
        async with self._busy():
            try:
                await self.results.export(statement, path)
            except QueryError as error:
                self._show_error(error)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_explain(self, analyze: bool) -> None:
        statement = self._current_statement()
        if statement is None:
            return
        if analyze and statement.kind != "SELECT" and not await self.confirm(
                f"EXPLAIN ANALYZE runs this {statement.kind} (then rolls it back):\n\n"
                f"{statement.text[:300]}\n\nRun it?", "Analyze"):
            return
        self.show_plan(statement, analyze=analyze)

    @work(exclusive=True, group="query", exit_on_error=False)
    async def show_plan(self, statement: Statement, *, analyze: bool) -> None:
        await self.run.close()
        try:
            root = await explain(self.session, statement, analyze=analyze)
        except QueryError as error:
            self._show_error(error)
            return
        self.app.push_screen(PlanModal(root, analyzed=analyze))

    def _current_statement(self) -> Statement | None:
        found = self.pane.statements()
        return found[0] if found else None

    async def action_cancel(self) -> None:
        await self.session.cancel()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def _run_guarded(self, statements: list[Statement]) -> None:
        """Run them; a statement that destroys data is shown and asked about first."""
        if not statements:
            return
        reasons = [(s, r) for s in statements if (r := confirmation_reason(s))]
        if reasons:
            statement, reason = reasons[0]
            shown = statement.text if len(statement.text) < 300 else statement.text[:300] + "…"
            if not await self.confirm(f"{reason}:\n\n{shown}\n\nRun it?", "Run"):
                return
        self.run_statements(statements)

    @work(exclusive=True, group="query", exit_on_error=False)
    async def run_statements(self, statements: list[Statement]) -> None:
        """Run the statements in order; the last one's rows stay in the grid."""
        self._lost = False
        try:
            async with self._busy():
                await self.results.run_statements(statements)
        except QueryError as error:
            self._show_error(error)
            self.history.add(HistoryEntry.now(error.statement.text,
                                              time.monotonic() - self._started, None,
                                              error.message))
        finally:
            self._show_mode()

    @contextlib.asynccontextmanager
    async def _busy(self) -> AsyncIterator[None]:
        """A run or an export is under way (the status line counts its time)."""
        self.running = True
        self._started = time.monotonic()
        try:
            yield
        finally:
            self.running = False

    @on(ResultGrid.CellAction)
    def cell_action(self, event: ResultGrid.CellAction) -> None:
        on_cell_action(self, event)

    @on(ResultsPanel.StatementFinished)
    def statement_finished(self, message: ResultsPanel.StatementFinished) -> None:
        done = message.done
        if done.statement.kind in ("CREATE", "ALTER", "DROP"):
            self.pane.forget_catalog()  # completion reads the catalog again
        self.history.add(HistoryEntry.now(done.statement.text, done.elapsed_s, done.rowcount))

    def _show_error(self, error: QueryError) -> None:
        """Postgres's message in the log; the editor selects the word it points at."""
        self.results.error(error)
        if error.buffer_position is not None:
            self.pane.point_at(error.buffer_position)

    def _tick(self) -> None:
        self.results.tick(self.running, self._started)

    @on(ResultsPanel.ConnectionLost)
    def _connection_lost(self, event: ResultsPanel.ConnectionLost) -> None:
        self._lost = event.transaction
        if self._lost:
            self.show_error("Connection lost", "the connection to Postgres was lost: the "
                            "server rolled back the open transaction; nothing of it was "
                            "committed")
        self._show_mode()

    # Buffers and the library: the editing pane's.

    @property
    def results(self) -> ResultsPanel:
        return self.query_one(ResultsPanel)

    @property
    def pane(self) -> QueryEditor:
        return self.query_one(QueryEditor)

    def action_new_buffer(self) -> None:
        self.pane.new_buffer()

    def action_cycle_buffer(self, step: int) -> None:
        self.pane.cycle(step)

    def action_close_buffer(self) -> None:
        self.pane.close_buffer()

    def action_history(self) -> None:
        self.pane.recall_history()

    def action_snippets(self) -> None:
        self.pane.insert_snippet()
