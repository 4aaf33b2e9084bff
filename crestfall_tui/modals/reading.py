"""A large modal for reading something at length (a cell, a plan); escape or q closes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, TextArea

from crestfall_tui.modals.base import CrestfallModal


class ReadingModal(CrestfallModal[None]):
    """The shared frame: centred, most of the screen, the content filling it."""

    DEFAULT_CSS = """
    ReadingModal > .frame {
        width: 95%; height: 85%; border: thick $accent; background: $surface; padding: 0 1;
    }
    ReadingModal > Vertical > TextArea, ReadingModal > Vertical > Tree { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="reading.close")]


class TextModal(ReadingModal):
    """Text to read (a statement list, a log, a value), read-only and scrollable."""

    def __init__(self, title: str, text: str, language: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.language = language

    def compose(self) -> ComposeResult:
        with Vertical(classes="frame"):
            yield Label(f"{self.title_text} — escape closes", markup=False)
            yield TextArea(self.text, read_only=True, soft_wrap=True, language=self.language)
