"""What every modal shares: centred over the section in one frame style, its text wrapped
to the frame, and escape to close it."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class CrestfallModal(ModalScreen[ResultT]):
    """A question, a picker or a reader. Compose its content inside one container with the
    class `frame`; `-warning` on it marks a question about something destructive."""

    DEFAULT_CSS = """
    CrestfallModal { align: center middle; }
    CrestfallModal > .frame {
        width: 90%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    CrestfallModal > .frame.-warning { border: thick $warning; }
    CrestfallModal > .frame > Label { width: 100%; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="modal.close"),
        # Taken by the app as each key is read: a field's own keys are handed to it in a
        # queue, so under load the letters typed after a Tab reached the field it left.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True,
                id="modal.next"),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False,
                priority=True, id="modal.previous"),
    ]

    def action_close(self) -> None:
        """Close without an answer."""
        self.dismiss(None)
