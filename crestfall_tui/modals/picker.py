"""Pick one of many (past queries, snippets): type to filter, enter chooses, escape closes."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from crestfall_tui.modals.base import CrestfallModal

Choice = tuple[str, str]
"""What the list shows, and what choosing it returns."""


class PickerModal(CrestfallModal[str | None]):
    """Choices from `load(search)`, read in a thread; dismisses with the chosen value."""

    DEFAULT_CSS = """
    PickerModal > .frame {
        width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    PickerModal OptionList { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="picker.close"),
        Binding("slash", "focus_search", "Search", id="picker.search"),
        # The search line keeps the focus while one types; the arrows still move the choice.
        Binding("down", "move(1)", show=False, priority=True, id="picker.down"),
        Binding("up", "move(-1)", show=False, priority=True, id="picker.up"),
    ]

    def __init__(self, title: str, load: Callable[[str], list[Choice]]) -> None:
        super().__init__()
        self.title_text = title
        self.load_choices = load
        self._shown: list[Choice] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="frame"):
            yield Label(f"{self.title_text}: type to filter, enter chooses, escape closes",
                        markup=False)
            yield Input(placeholder="search", id="picker-search")
            yield OptionList(id="picker-list")

    def on_mount(self) -> None:
        self.load("")

    def action_focus_search(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def filter(self, event: Input.Changed) -> None:
        self.load(event.value)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -step
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted)
    def take_highlighted(self) -> None:
        """Enter in the search takes the highlighted choice (the first, unless moved)."""
        if self._shown:
            index = self.query_one(OptionList).highlighted or 0
            self.dismiss(self._shown[min(index, len(self._shown) - 1)][1])

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._shown[event.option_index][1])

    class Loaded(Message):
        """The choices that match the search."""

        def __init__(self, choices: list[Choice]) -> None:
            super().__init__()
            self.choices = choices

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False)
    def load(self, search: str) -> None:
        """Read the choices (file I/O, so a thread) and post what matches."""
        self.post_message(self.Loaded(self.load_choices(search)))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        self._shown = message.choices
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(label) for label, _ in message.choices])
        if message.choices:
            options.highlighted = 0
