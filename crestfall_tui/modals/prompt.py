"""Ask for one line of text (a file name, say); enter accepts, escape cancels."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from crestfall_tui.modals.base import CrestfallModal


class PromptModal(CrestfallModal[str | None]):
    """Dismisses with the text typed, or None when cancelled (or left empty, unless an
    empty answer means something: `empty_allowed`)."""

    DEFAULT_CSS = """
    PromptModal > .frame {
        width: 80; max-width: 95%; height: auto; border: thick $accent;
        background: $surface; padding: 1 2;
    }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="prompt.cancel")]

    def __init__(self, question: str, value: str = "", *, empty_allowed: bool = False,
                 warning: bool = False, password: bool = False) -> None:
        """`warning`: the answer confirms something destructive (the frame says so);
        `password`: what is typed is not shown."""
        super().__init__()
        self.question = question
        self.value = value
        self.empty_allowed = empty_allowed
        self.warning = warning
        self.password = password

    def compose(self) -> ComposeResult:
        with Vertical(classes="frame -warning" if self.warning else "frame"):
            yield Label(self.question, markup=False)
            yield Input(value=self.value, id="prompt-input", password=self.password)

    @on(Input.Submitted)
    def accept(self, event: Input.Submitted) -> None:
        answer = event.value.strip()
        self.dismiss(answer if answer or self.empty_allowed else None)


def typed_path(answer: str) -> Path:
    """A path as the user typed it, `~` included."""
    return Path(answer).expanduser()
