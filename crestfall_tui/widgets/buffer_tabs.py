"""The Query screen's SQL buffers, one tab each: each keeps its text, its cursor and the
file it came from. One editor shows the active buffer (a dozen editors would each parse and
highlight their text; only one is ever on screen), so this widget holds what the others
held when they were last shown."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.message import Message
from textual.widgets import Tab, Tabs


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


class BufferTabs(Tabs):
    """The buffers, in tabs; the screen swaps the editor's content as the active one
    changes."""

    @dataclass
    class Chosen(Message):
        """The user picked another buffer's tab (a click, the tabs' own keys)."""

        buffer: Buffer

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        self._numbers = itertools.count(1)
        self.buffers = [Buffer(next(self._numbers))]
        self.current = 0
        super().__init__(Tab(self.buffers[0].label, id=self.buffers[0].tab_id), id=id,
                         classes="-single")

    @property
    def shown(self) -> Buffer:
        """The buffer the editor shows."""
        return self.buffers[self.current]

    def show_buffer(self, index: int) -> Buffer:
        """Make buffer `index` the one shown, and mark its tab."""
        self.set_class(len(self.buffers) == 1, "-single")  # a short screen hides one tab
        self.current = index
        self.active = self.shown.tab_id
        return self.shown

    def add_buffer(self, text: str = "", file: Path | None = None) -> Buffer:
        """A new buffer after the others, shown."""
        buffer = Buffer(next(self._numbers), text, (0, 0), file)
        self.buffers.append(buffer)
        self.add_tab(Tab(buffer.label, id=buffer.tab_id))
        return self.show_buffer(len(self.buffers) - 1)

    def remove_shown(self) -> Buffer:
        """Close the buffer shown (never the last one); the one now shown."""
        closed = self.buffers.pop(self.current)
        self.remove_tab(closed.tab_id)
        return self.show_buffer(min(self.current, len(self.buffers) - 1))

    def step(self, by: int) -> Buffer:
        """The next (or previous) buffer, shown."""
        return self.show_buffer((self.current + by) % len(self.buffers))

    def relabel(self, file: Path | None) -> None:
        """The shown buffer's file changed (opened, saved as)."""
        self.shown.file = file
        self.query_one(f"#{self.shown.tab_id}", Tab).label = self.shown.label

    @on(Tabs.TabActivated)
    def _tab_chosen(self, event: Tabs.TabActivated) -> None:
        ids = [buffer.tab_id for buffer in self.buffers]
        if event.tab is None or event.tab.id not in ids:
            return
        index = ids.index(event.tab.id)
        if index != self.current:  # ours already match: nothing to say
            event.stop()
            self.post_message(self.Chosen(self.buffers[index]))
