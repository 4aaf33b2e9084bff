"""The Query screen's editing pane: SQL buffers in tabs over the one editor that shows the
active one, completion from the database's catalog at its cursor, the statements to run
(the selection's, or the one under the cursor) and where an error points, and the library
that fills the editor (its history, named snippets, .sql files). The screen runs what is
written here."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.widgets.text_area import Selection

from crestfall_tui.errors import CrestfallError
from crestfall_tui.modals.confirm import ConfirmModal
from crestfall_tui.modals.picker import PickerModal
from crestfall_tui.modals.prompt import PromptModal, typed_path
from crestfall_tui.services.completion import Catalog, complete, load_catalog
from crestfall_tui.services.query_history import QueryHistory, history_label
from crestfall_tui.services.query_run import QueryRun
from crestfall_tui.services.snippets import Snippets
from crestfall_tui.services.sql_text import Statement, split_statements, statement_at
from crestfall_tui.widgets.buffer_tabs import Buffer, BufferTabs
from crestfall_tui.widgets.completion_menu import CompletionMenu
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.sql_editor import SqlEditor


class QueryEditor(Pane):
    """Buffers, the editor, and what fills it."""

    def __init__(self, history: QueryHistory, snippets: Snippets, run: QueryRun, *,
                 id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.history = history
        self.snippets = snippets
        self.run = run
        self.file: Path | None = None
        """The .sql file the shown buffer came from or was saved to."""
        self._catalog: Catalog | None = None
        """Relations, columns and functions for completion; dropped after DDL."""

    def compose(self) -> ComposeResult:
        yield BufferTabs(id="buffers")
        yield SqlEditor(id="editor")
        yield CompletionMenu(id="completions")

    def on_mount(self) -> None:
        self.editor.menu = self.query_one(CompletionMenu)

    @property
    def editor(self) -> SqlEditor:
        return self.query_one(SqlEditor)

    @property
    def tabs(self) -> BufferTabs:
        return self.query_one(BufferTabs)

    def commands(self) -> Iterable[SystemCommand]:
        """The pane's entries in the command palette."""
        yield SystemCommand("Query: open a .sql file", "Load a file into the editor",
                            self.open_file)
        yield SystemCommand("Query: save the editor to a .sql file", "Write the editor out",
                            self.save_file)
        yield SystemCommand("Query: save as a snippet", "Name the editor's SQL for later",
                            self.save_snippet)
        yield SystemCommand("Query: insert a snippet", "Pick a saved snippet",
                            self.insert_snippet)
        yield SystemCommand("Query: new buffer (alt+n)", "Another SQL buffer in a tab",
                            self.new_buffer)
        yield SystemCommand("Query: close this buffer (alt+w)", "Asks when it holds text",
                            self.close_buffer)

    # What to run, and where an error points.

    def statements(self, *, everything: bool = False) -> list[Statement]:
        """The selection's statements when text is selected; else the whole buffer's, or
        the statement under the cursor."""
        editor = self.editor
        if editor.selected_text.strip():
            return split_statements(editor.selected_text)
        if everything:
            return split_statements(editor.text)
        current = statement_at(editor.text, editor.cursor_offset)
        return [] if current is None else [current]

    def point_at(self, position: int) -> None:
        """Select the word at a character offset of the buffer (where an error is)."""
        text = self.editor.text
        word = re.match(r"\w+|\S", text[position:])
        end = position + (len(word.group()) if word else 0)
        self.editor.selection = Selection(_location(text, position), _location(text, end))

    # Completion, from the catalog read once (again after DDL or another database).

    def forget_catalog(self) -> None:
        self._catalog = None

    @on(SqlEditor.CompletionWanted)
    def _completion_wanted(self, event: SqlEditor.CompletionWanted) -> None:
        self._find_completions(event)

    @work(exclusive=True, group="complete", exit_on_error=False)
    async def _find_completions(self, wanted: SqlEditor.CompletionWanted) -> None:
        if self._catalog is None:
            async with self.run.lock:
                self._catalog = await load_catalog(await self.run.session.connection())
        wanted.editor.offer(complete(wanted.before, wanted.statement, self._catalog))

    # Buffers: the tabs keep each one; the editor shows the active one.

    def _store(self) -> None:
        buffer, editor = self.tabs.shown, self.editor
        buffer.text, buffer.cursor, buffer.file = editor.text, editor.cursor_location, self.file

    def _load(self, buffer: Buffer) -> None:
        self.editor.load_text(buffer.text)
        self.editor.move_cursor(buffer.cursor)
        self.file = buffer.file
        self.editor.focus()

    def new_buffer(self, text: str = "", file: Path | None = None) -> None:
        self._store()
        self._load(self.tabs.add_buffer(text, file))

    def cycle(self, step: int) -> None:
        if len(self.tabs.buffers) > 1:
            self._store()
            self._load(self.tabs.step(step))

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def close_buffer(self) -> None:
        """Close the shown buffer (asking when it holds text); the last one stays."""
        if len(self.tabs.buffers) == 1:
            self.notify("the last buffer stays open", timeout=3)
            return
        if self.editor.text.strip() and not await self.app.push_screen_wait(ConfirmModal(
                f"Close {self.tabs.shown.label}? Its text is not kept.", "Close")):
            return
        self._load(self.tabs.remove_shown())

    @on(BufferTabs.Chosen)
    def _buffer_chosen(self, event: BufferTabs.Chosen) -> None:
        self._store()
        self._load(self.tabs.show_buffer(self.tabs.buffers.index(event.buffer)))

    # The library: history, snippets, files.

    def put(self, text: str | None) -> None:
        """Text from the library into the editor."""
        if text is not None:
            self.editor.text = text
            self.editor.focus()

    def recall_history(self) -> None:
        def load(search: str) -> list[tuple[str, str]]:
            return [(history_label(entry), entry.text)
                    for entry in self.history.entries(search)]

        self.app.push_screen(PickerModal("Query history", load), self.put)

    def insert_snippet(self) -> None:
        def load(search: str) -> list[tuple[str, str]]:
            return [(f"{name}:  {' '.join(text.split())[:90]}", text)
                    for name, text in self.snippets.all(search).items()]

        self.app.push_screen(PickerModal("Snippets", load), self.put)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def save_snippet(self) -> None:
        text = self.editor.selected_text or self.editor.text
        if not text.strip():
            return
        name = await self.app.push_screen_wait(PromptModal(
            "Save the editor's SQL (or the selection) as the snippet named:"))
        if name:
            self.snippets.save(name, text)
            self.notify(f"saved snippet {name!r}", timeout=3)

    @work(group="file", exit_on_error=False)
    async def open_file(self, path: Path | None = None) -> None:
        """A .sql file into the shown buffer when it is empty, else into a new one."""
        if path is None:
            answer = await self.app.push_screen_wait(
                PromptModal("Open the .sql file:", str(self.file or "")))
            if not answer:
                return
            path = typed_path(answer)
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except OSError as error:
            raise CrestfallError(f"cannot open {path}: {error.strerror}", title="Open") from None
        except UnicodeDecodeError:
            raise CrestfallError(f"cannot open {path}: it is not UTF-8 text",
                                 title="Open") from None
        if self.editor.text.strip():
            self.new_buffer(text, path)
            return
        self.file = path
        self.put(text)
        self.tabs.relabel(path)

    @work(group="file", exit_on_error=False)
    async def save_file(self, path: Path | None = None) -> None:
        """The shown buffer into a .sql file."""
        if path is None:
            answer = await self.app.push_screen_wait(PromptModal(
                "Save the editor to the .sql file:", str(self.file or Path.cwd() / "query.sql")))
            if not answer:
                return
            path = typed_path(answer)
        try:
            await asyncio.to_thread(path.write_text, self.editor.text, encoding="utf-8")
        except OSError as error:
            raise CrestfallError(f"cannot save {path}: {error.strerror}", title="Save") from None
        self.file = path
        self.tabs.relabel(path)
        self.notify(f"saved {path}", timeout=3)


def _location(text: str, offset: int) -> tuple[int, int]:
    """The (row, column) location of a character offset in the text."""
    before = text[:offset]
    return before.count("\n"), offset - (before.rfind("\n") + 1)
