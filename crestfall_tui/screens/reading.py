"""A large modal for reading something at length (a cell, a plan); escape or q closes."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import ModalScreen


class ReadingModal(ModalScreen[None]):
    """The shared frame: centred, most of the screen, the content filling it."""

    DEFAULT_CSS = """
    ReadingModal { align: center middle; }
    ReadingModal > Vertical {
        width: 95%; height: 85%; border: thick $accent; background: $surface; padding: 0 1;
    }
    ReadingModal > Vertical > TextArea, ReadingModal > Vertical > Tree { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="reading.close")]
