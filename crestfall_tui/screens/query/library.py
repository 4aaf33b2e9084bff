"""The Query screen's library of SQL: its history, named snippets, and .sql files."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work
from textual.widgets import TextArea

from crestfall_tui.errors import CrestfallError
from crestfall_tui.modals.picker import PickerModal
from crestfall_tui.modals.prompt import PromptModal
from crestfall_tui.screens.base import CrestfallScreen
from crestfall_tui.services.query_history import QueryHistory, history_label
from crestfall_tui.services.snippets import Snippets


class QueryLibrary(CrestfallScreen):
    """Recall past runs and snippets into the editor; open and save files."""

    def __init__(self, history: QueryHistory, snippets: Snippets) -> None:
        super().__init__()
        self.history = history
        self.snippets = snippets
        self.file: Path | None = None
        """The .sql file last opened or saved."""

    def action_history(self) -> None:
        def load(search: str) -> list[tuple[str, str]]:
            return [(history_label(entry), entry.text)
                    for entry in self.history.entries(search)]

        self.app.push_screen(PickerModal("Query history", load), self._put_in_editor)

    def action_snippets(self) -> None:
        def load(search: str) -> list[tuple[str, str]]:
            return [(f"{name}:  {' '.join(text.split())[:90]}", text)
                    for name, text in self.snippets.all(search).items()]

        self.app.push_screen(PickerModal("Snippets", load), self._put_in_editor)

    def action_save_snippet(self) -> None:
        text = self.query_one(TextArea).selected_text or self.query_one(TextArea).text
        if not text.strip():
            return

        def named(name: str | None) -> None:
            if name:
                self.snippets.save(name, text)
                self.notify(f"saved snippet {name!r}", timeout=3)

        self.app.push_screen(PromptModal("Save the editor's SQL (or the selection) as the "
                                         "snippet named:"), named)

    def action_open_file(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.open_file(Path(path).expanduser())

        self.app.push_screen(PromptModal("Open the .sql file:", str(self.file or "")), chosen)

    @work(group="file", exit_on_error=False)
    async def open_file(self, path: Path) -> None:
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except OSError as error:
            raise CrestfallError(f"cannot open {path}: {error.strerror}", title="Open") from None
        except UnicodeDecodeError:
            raise CrestfallError(f"cannot open {path}: it is not UTF-8 text",
                                 title="Open") from None
        self.file_opened(path, text)

    def file_opened(self, path: Path, text: str) -> None:
        """A file was read: its text goes into the editor."""
        self.file = path
        self._put_in_editor(text)

    def file_saved(self, path: Path) -> None:
        """The editor was written to a file."""
        self.file = path

    def action_save_file(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.save_file(Path(path).expanduser(), self.query_one(TextArea).text)

        self.app.push_screen(PromptModal("Save the editor to the .sql file:",
                                         str(self.file or Path.cwd() / "query.sql")), chosen)

    @work(group="file", exit_on_error=False)
    async def save_file(self, path: Path, text: str) -> None:
        try:
            await asyncio.to_thread(path.write_text, text, encoding="utf-8")
        except OSError as error:
            raise CrestfallError(f"cannot save {path}: {error.strerror}", title="Save") from None
        self.file_saved(path)
        self.notify(f"saved {path}", timeout=3)

    def _put_in_editor(self, text: str | None) -> None:
        if text is not None:
            editor = self.query_one(TextArea)
            editor.text = text
            editor.focus()
