"""CrestfallApp: modes (one per section), global keys, lifecycle. Nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import HelpPanel

from crestfall_tui.config import StackConfig
from crestfall_tui.modals import ConfirmModal
from crestfall_tui.screens import QueryScreen, StackScreen, TablesScreen
from crestfall_tui.services.action_log import ActionLog
from crestfall_tui.services.extensions import Extensions
from crestfall_tui.services.pending import PendingChanges
from crestfall_tui.services.query_history import QueryHistory
from crestfall_tui.services.query_session import QuerySession
from crestfall_tui.services.snippets import Snippets
from crestfall_tui.services.table_session import TableSession
from crestfall_tui.stack.model import StackStatus
from crestfall_tui.stack.runtime import Runtime


class CrestfallApp(App[None]):
    """The studio for one stack."""

    CSS_PATH = "app.tcss"
    TITLE = "Crestfall"
    BINDINGS = [
        Binding("f1", "switch_mode('stack')", "Stack", tooltip="Services and health",
                id="mode.stack"),
        Binding("f2", "switch_mode('tables')", "Tables", tooltip="Browse and edit tables",
                id="mode.tables"),
        Binding("f3", "switch_mode('query')", "Query", tooltip="SQL editor and results",
                id="mode.query"),
        Binding("question_mark", "toggle_help", "Help", tooltip="Show or hide the keys",
                id="app.help"),
        Binding("q", "quit", "Quit", tooltip="Leave the studio; the stack keeps running",
                id="app.quit"),
    ]

    def __init__(self, stack: StackConfig, runtime: Runtime, note: str = "",
                 *, first_status: Future[StackStatus] | None = None) -> None:
        super().__init__()
        self.stack = stack
        self.runtime = runtime
        self.note = note
        postgres = runtime.postgres(read_only=stack.read_only)
        self.add_mode("stack", lambda: StackScreen(runtime, Extensions(postgres), first_status))
        self.table_pending = PendingChanges()
        self.add_mode("tables", lambda: TablesScreen(TableSession(postgres), self.table_pending,
                                                     ActionLog(stack.name, stack.data_path)))
        self.query_session = QuerySession(postgres,
                                          idle_release_s=stack.release_idle_results)
        self.add_mode("query", lambda: QueryScreen(self.query_session,
                                                   QueryHistory(stack.data_path),
                                                   Snippets(stack.data_path)))

    def on_mount(self) -> None:
        self.switch_mode("stack")
        if self.note:
            self.notify(self.note, title="Runtime", timeout=8)

    async def action_quit(self) -> None:
        """Quit; with a manual transaction open or table edits pending, ask first."""
        unsaved = []
        if self.query_session.in_transaction:
            unsaved.append("A transaction is open in the Query screen (it will be rolled "
                           "back).")
        if self.table_pending:
            unsaved.append(f"Table edits are pending ({self.table_pending.summary()}); they "
                           "will be lost.")
        if not unsaved:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmModal(" ".join(unsaved) + " Quit anyway?", "Quit"), answered)

    def action_toggle_help(self) -> None:
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, StackScreen) and self.runtime.manages_services:
            yield SystemCommand("Stack: start", "Start what is down", screen.action_up)
            yield SystemCommand("Stack: stop", "Stop every service", screen.action_stop)
            yield SystemCommand("Stack: restart selected service",
                                "Restart the service under the cursor", screen.action_restart)
        if isinstance(screen, QueryScreen):
            yield SystemCommand("Query: open a .sql file", "Load a file into the editor",
                                screen.action_open_file)
            yield SystemCommand("Query: save the editor to a .sql file", "Write the editor out",
                                screen.action_save_file)
            yield SystemCommand("Query: save as a snippet", "Name the editor's SQL for later",
                                screen.action_save_snippet)
            yield SystemCommand("Query: insert a snippet", "Pick a saved snippet",
                                screen.action_snippets)
            yield SystemCommand("Query: new buffer (alt+n)", "Another SQL buffer in a tab",
                                screen.action_new_buffer)
            yield SystemCommand("Query: close this buffer (alt+w)", "Asks when it holds text",
                                screen.action_close_buffer)
        if isinstance(screen, TablesScreen):
            yield SystemCommand("Tables: export the rows to a file",
                                "The view, with its filters and sort, to .csv or .jsonl",
                                screen.action_export)
            yield SystemCommand("Tables: import a CSV file", "Preview, map columns, load",
                                screen.action_import_csv)
            yield SystemCommand("Tables: action log", "Every write the studio committed",
                                screen.action_action_log)
            yield SystemCommand("Tables: view as a role or user", "RLS applies",
                                screen.action_view_as)
        if isinstance(screen, StackScreen):
            yield SystemCommand("Stack: refresh", "Probe every service now",
                                screen.action_refresh)
            yield SystemCommand("Stack: reveal or hide secrets", "Toggle passwords and keys",
                                screen.action_toggle_secrets)
