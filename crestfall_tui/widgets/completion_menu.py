"""Completions at the cursor: a small list over the editor that narrows as you type. It
never takes the focus; the screen moves through it and accepts from it while it is open."""

from __future__ import annotations

from textual.geometry import Offset
from textual.widgets import OptionList
from textual.widgets.option_list import Option

MAX_SHOWN = 200


class CompletionMenu(OptionList, can_focus=False):
    """The candidates for the word at the cursor."""

    DEFAULT_CSS = """
    CompletionMenu {
        overlay: screen; position: absolute; display: none;
        width: auto; min-width: 24; max-width: 60; height: auto; max-height: 10;
        border: round $accent; background: $surface; padding: 0;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.candidates: list[str] = []
        self.partial = ""
        """The part of the word already typed, which the chosen candidate replaces."""

    @property
    def is_open(self) -> bool:
        return bool(self.display)

    def open(self, candidates: list[str], partial: str, at: Offset) -> None:
        """Show the candidates just below `at` (the cursor, in screen cells)."""
        self.candidates = candidates
        self.styles.offset = (at.x, at.y + 1)
        self.display = True
        self.narrow(partial)

    def narrow(self, partial: str) -> bool:
        """Keep the candidates that start with (else contain) what is typed; False when none
        is left (the menu then closes)."""
        self.partial = partial
        needle = partial.lower()
        shown = [c for c in self.candidates if c.lower().startswith(needle)] or \
            [c for c in self.candidates if needle in c.lower()]
        if not shown:
            self.close()
            return False
        self.clear_options()
        self.add_options([Option(candidate) for candidate in shown[:MAX_SHOWN]])
        self.highlighted = 0
        return True

    def close(self) -> None:
        self.display = False

    @property
    def chosen(self) -> str | None:
        if self.highlighted is None or not self.is_open:
            return None
        return str(self.get_option_at_index(self.highlighted).prompt)
