"""Several SQL buffers in the Query screen, one tab each: each keeps its text, its cursor
and the file it came from. One editor widget shows the active buffer (a dozen editors would
each parse and highlight their text; only one is ever on screen)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.binding import Binding
from textual.widgets import Tab, Tabs, TextArea

from crestfall_tui.screens.query.library import QueryLibrary
from crestfall_tui.services.query_history import QueryHistory
from crestfall_tui.services.snippets import Snippets


@dataclass
class Buffer:
    """One buffer: what the editor held when another was shown."""

    number: int
    text: str = ""
    cursor: tuple[int, int] = (0, 0)
    file: Path | None = None

    @property
    def label(self) -> str:
        return self.file.name if self.file else f"query {self.number}"

    @property
    def tab_id(self) -> str:
        return f"buffer-{self.number}"


class QueryBuffers(QueryLibrary):
    """New, close, next and previous buffer; open files land in a buffer of their own."""

    # priority: the editor would otherwise take alt+<letter> as the letter.
    BUFFER_BINDINGS = [
        Binding("alt+n", "new_buffer", "New buffer", show=False, id="query.new_buffer",
                priority=True,
                tooltip="Another SQL buffer, in a tab of its own"),
        Binding("alt+w", "close_buffer", "Close buffer", show=False, id="query.close_buffer",
                priority=True,
                tooltip="Close this buffer (asks when it holds text)"),
        Binding("alt+right", "cycle_buffer(1)", "Next buffer", show=False,
                id="query.next_buffer", priority=True),
        Binding("alt+left", "cycle_buffer(-1)", "Previous buffer", show=False,
                id="query.previous_buffer", priority=True),
    ]

    def __init__(self, history: QueryHistory, snippets: Snippets) -> None:
        super().__init__(history, snippets)
        self._numbers = itertools.count(1)
        self.buffers = [Buffer(next(self._numbers))]
        self.current = 0

    def buffer_tabs(self) -> Tabs:
        return Tabs(Tab(self.buffers[0].label, id=self.buffers[0].tab_id), id="buffers")

    @property
    def _editor(self) -> TextArea:
        return self.query_one("#editor", TextArea)

    def _store(self) -> None:
        """Keep what the editor shows in the active buffer."""
        buffer = self.buffers[self.current]
        buffer.text = self._editor.text
        buffer.cursor = self._editor.cursor_location
        buffer.file = self.file

    def _show(self, index: int) -> None:
        """Put buffer `index` in the editor and mark its tab."""
        self.current = index
        buffer = self.buffers[index]
        self._editor.load_text(buffer.text)
        self._editor.move_cursor(buffer.cursor)
        self.file = buffer.file
        self.query_one("#buffers", Tabs).active = buffer.tab_id
        self._editor.focus()

    def action_new_buffer(self, text: str = "", file: Path | None = None) -> None:
        self._store()
        buffer = Buffer(next(self._numbers), text, (0, 0), file)
        self.buffers.append(buffer)
        self.query_one("#buffers", Tabs).add_tab(Tab(buffer.label, id=buffer.tab_id))
        self._show(len(self.buffers) - 1)

    def action_cycle_buffer(self, step: int) -> None:
        if len(self.buffers) > 1:
            self._store()
            self._show((self.current + step) % len(self.buffers))

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_close_buffer(self) -> None:
        if len(self.buffers) == 1:
            self.notify("the last buffer stays open", timeout=3)
            return
        if self._editor.text.strip() and not await self.confirm(
                f"Close {self.buffers[self.current].label}? Its text is not kept.", "Close"):
            return
        self._close_current()

    def _close_current(self) -> None:
        closed = self.buffers.pop(self.current)
        self.query_one("#buffers", Tabs).remove_tab(closed.tab_id)
        self._show(min(self.current, len(self.buffers) - 1))

    @on(Tabs.TabActivated, "#buffers")
    def buffer_chosen(self, event: Tabs.TabActivated) -> None:
        """A click or the tabs' own keys chose a buffer (ours already match: nothing)."""
        ids = [buffer.tab_id for buffer in self.buffers]
        if event.tab is None or event.tab.id not in ids:
            return
        index = ids.index(event.tab.id)
        if index != self.current:
            self._store()
            self._show(index)

    def file_opened(self, path: Path, text: str) -> None:
        """A file opens in the active buffer when it is empty, else in a new one."""
        if self._editor.text.strip():
            self.action_new_buffer(text, path)
            return
        super().file_opened(path, text)
        self._relabel()

    def file_saved(self, path: Path) -> None:
        super().file_saved(path)
        self._relabel()

    def _relabel(self) -> None:
        buffer = self.buffers[self.current]
        buffer.file = self.file
        self.query_one("#buffers", Tabs).query_one(f"#{buffer.tab_id}", Tab).label = \
            buffer.label
