"""Pick a past query: type to filter, enter to put it back in the editor."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from crestfall_tui.services.query_history import HistoryEntry, QueryHistory


class HistoryModal(ModalScreen[str | None]):
    """The stack's query history, newest first; dismisses with the chosen SQL."""

    DEFAULT_CSS = """
    HistoryModal { align: center middle; }
    HistoryModal > Vertical {
        width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    HistoryModal OptionList { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="history.close"),
        Binding("slash", "focus_search", "Search", id="history.search"),
    ]

    def __init__(self, history: QueryHistory) -> None:
        super().__init__()
        self.history = history
        self._shown: list[HistoryEntry] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Query history: type to filter, enter recalls, escape closes")
            yield Input(placeholder="search", id="history-search")
            yield OptionList(id="history-list")

    def on_mount(self) -> None:
        self.load("")

    def action_focus_search(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def filter(self, event: Input.Changed) -> None:
        self.load(event.value)

    @on(Input.Submitted)
    def take_first(self) -> None:
        if self._shown:
            self.dismiss(self._shown[0].text)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._shown[event.option_index].text)

    class Loaded(Message):
        """The entries that match the search."""

        def __init__(self, entries: list[HistoryEntry]) -> None:
            super().__init__()
            self.entries = entries

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load(self, search: str) -> None:
        """Read the file (blocking I/O, so a thread) and post what matches."""
        self.post_message(self.Loaded(self.history.entries(search)))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        entries = message.entries
        self._shown = entries
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(_label(entry)) for entry in entries])


def _label(entry: HistoryEntry) -> str:
    first = " ".join(entry.text.split())[:100]
    outcome = f"{entry.rows} rows" if entry.ok and entry.rows is not None else (
        "ok" if entry.ok else f"error: {entry.error or ''}"[:40])
    return f"{entry.ran_at[:19].replace('T', ' ')}  {entry.duration_s:7.3f}s  {outcome:<16} {first}"
