"""What every section's screen shares: its own palette commands, the unsaved work quitting
asks about, an awaitable confirmation, and failures shown in the user's words."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import SystemCommand
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from crestfall_tui.modals.confirm import ConfirmModal
from crestfall_tui.widgets.pane import said


class ShowRows(Message):
    """Open the Tables section on `schema.name`, its rows where `column` = `value` (posted by
    a section; the app switches)."""

    def __init__(self, schema: str, name: str, column: str, value: str) -> None:
        super().__init__()
        self.schema = schema
        self.name = name
        self.column = column
        self.value = value


class CrestfallScreen(Screen[None]):
    """A section of the studio. Its workers' errors become notifications, never tracebacks."""

    SECTION = ""
    """The section's title, heading its help."""
    ABOUT = ""
    """What the section is, in a sentence or two, above the keys in its help."""

    @property
    def HELP(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's name
        """The help panel's text (`?`): made from the keys in force now, so a key remapped
        in the config's [keymap] shows as remapped."""
        keys: dict[str, list[str]] = {}
        for active in self.active_bindings.values():
            binding = active.binding
            text = binding.tooltip or binding.description
            if text and not binding.system:
                keys.setdefault(text, []).append(self.app.get_key_display(binding))
        lines = [f"## {self.SECTION}", self.ABOUT, ""] if self.SECTION else []
        lines += [f"- **{' / '.join(dict.fromkeys(shown))}** {text}"
                  for text, shown in keys.items()]
        return "\n".join(lines)

    def commands(self) -> Iterable[SystemCommand]:
        """This section's entries in the command palette (ctrl+p)."""
        return ()

    def unsaved_work(self) -> list[str]:
        """What would be lost by quitting now, one sentence each (pending edits, an open
        transaction, a running import); empty when nothing would."""
        return []

    def show_rows(self, asked: ShowRows) -> None:
        """Show the rows another section asked for (the section whose registry row says
        `shows_rows` does)."""

    def database_changed(self) -> None:
        """The studio opened another database: read what is shown again."""

    async def confirm(self, question: str, yes: str = "Yes") -> bool:
        """Ask a yes/no question and wait for the answer; call it from a worker."""
        answer: bool | None = await self.app.push_screen_wait(ConfirmModal(question, yes))
        return answer is True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.show_error(*said(event.worker.error))

    def show_error(self, title: str, message: str) -> None:
        """Tell the user what went wrong; screens may also show it in place."""
        self.notify(message, title=title, severity="error", timeout=10, markup=False)

