"""A grid of result rows drawn line by line: only the rows on screen are rendered, so a
result of any length scrolls as fast as a short one. It holds the rows fetched so far and
asks for more (NeedMore) when the cursor comes near the last of them."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

CELL_WIDTH = 40
MORE_MARGIN = 100
"""Ask for more rows when the cursor is this close to the last fetched one."""


class ResultGrid(ScrollView, can_focus=True):
    """Columns and rows of one result; `start`, `add_rows`, `finish` feed it."""

    COMPONENT_CLASSES = {"result-grid--header", "result-grid--cursor", "result-grid--null"}
    DEFAULT_CSS = """
    ResultGrid { height: 1fr; }
    ResultGrid > .result-grid--header { text-style: bold; background: $panel; }
    ResultGrid > .result-grid--cursor { background: $accent 40%; }
    ResultGrid > .result-grid--null { color: $text-muted; text-style: italic; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "last", "Last row", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
    ]

    cursor_row: reactive[int] = reactive(0)
    """The row under the cursor (0-based)."""

    class NeedMore(Message):
        """The cursor is near the last fetched row, and the result has more."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.columns: list[str] = []
        self.rows: list[tuple[Any, ...]] = []
        self.widths: list[int] = []
        self.complete = True
        self._asked = False

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def start(self, columns: list[str]) -> None:
        """A new result with these columns and no rows yet."""
        self.columns = columns
        self.rows = []
        self.widths = [min(CELL_WIDTH, max(1, len(name))) for name in columns]
        self.complete = False
        self._asked = False
        self.cursor_row = 0
        self.scroll_to(0, 0, animate=False)
        self._resize()

    def add_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """More rows of the current result."""
        for row in rows[:MORE_MARGIN]:  # widths from a sample: cheap, and stable
            for index, value in enumerate(row):
                self.widths[index] = max(self.widths[index], min(CELL_WIDTH, len(_text(value))))
        self.rows.extend(rows)
        self._asked = False
        self._resize()
        self._ask_if_near_end()

    def finish(self) -> None:
        """The result has no more rows."""
        self.complete = True
        self.refresh()

    def action_move(self, delta: int) -> None:
        self._move_to(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self.rows) - 1)

    def _move_to(self, row: int) -> None:
        self.cursor_row = max(0, min(row, len(self.rows) - 1))

    def watch_cursor_row(self, row: int) -> None:
        visible = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False)
        self.refresh()
        self._ask_if_near_end()

    def _ask_if_near_end(self) -> None:
        if not self.complete and not self._asked and \
                self.cursor_row + MORE_MARGIN >= len(self.rows):
            self._asked = True
            self.post_message(self.NeedMore())

    def _resize(self) -> None:
        width = sum(self.widths) + 3 * max(0, len(self.widths) - 1) + 2
        self.virtual_size = Size(width, len(self.rows) + 1)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            style = self.get_component_rich_style("result-grid--header")
            cells = [(name, False) for name in self.columns]
            return self._strip(cells, style, scroll_x, width)
        index = scroll_y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        style = (self.get_component_rich_style("result-grid--cursor")
                 if index == self.cursor_row else self.rich_style)
        return self._strip([(_text(v), v is None) for v in row], style, scroll_x, width)

    def _strip(self, cells: list[tuple[str, bool]], style: Style, scroll_x: int,
               width: int) -> Strip:
        null = self.get_component_rich_style("result-grid--null")
        segments = [Segment(" ", style)]
        for index, (text, is_null) in enumerate(cells):
            cell_width = self.widths[index] if index < len(self.widths) else len(text)
            if len(text) > cell_width:
                text = text[: cell_width - 1] + "…"
            segments.append(Segment(text.ljust(cell_width), style + null if is_null else style))
            segments.append(Segment(" │ ", style))
        strip = Strip(segments[:-1] + [Segment(" ", style)])
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, style)


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    return str(value).replace("\n", "↵")
