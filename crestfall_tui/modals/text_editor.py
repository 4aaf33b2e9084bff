"""Text to write at length (a JSON object, a note): ctrl+s keeps it, escape cancels. A value
that was refused comes back in the editor with the reason above it, so nothing typed is
lost."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, TextArea

from crestfall_tui.modals.base import CrestfallModal


class TextEditorModal(CrestfallModal[str | None]):
    """Dismisses with the text written, or None when cancelled."""

    DEFAULT_CSS = """
    TextEditorModal TextArea { height: 18; }
    TextEditorModal #text-editor-error { color: $error; }
    """
    BINDINGS = [Binding("ctrl+s", "keep", "Keep", tooltip="Keep the text written",
                        id="text_editor.keep")]

    def __init__(self, title: str, text: str, *, language: str | None = None,
                 error: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.language = language
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="frame"):
            yield Label(f"{self.title_text} — ctrl+s keeps it, escape cancels", markup=False)
            if self.error:
                yield Label(self.error, id="text-editor-error", markup=False)
            yield TextArea(self.text, language=self.language, soft_wrap=True,
                           show_line_numbers=True, id="text-editor")

    def action_keep(self) -> None:
        self.dismiss(self.query_one(TextArea).text)
