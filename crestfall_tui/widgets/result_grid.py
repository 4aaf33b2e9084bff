"""A grid of result rows drawn line by line: only the rows on screen are rendered, so a
result of any length scrolls as fast as a short one. It holds the rows fetched so far and
asks for more (NeedMore) when the cursor comes near the last of them."""

from __future__ import annotations

import json
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
TYPES_MIN_HEIGHT = 8
"""A grid shorter than this shows no line of column types: rows matter more."""
MORE_MARGIN = 100
"""Ask for more rows when the cursor is this close to the last fetched one."""


class ResultGrid(ScrollView, can_focus=True):
    """Columns and rows of one result; `start`, `add_rows`, `finish` feed it."""

    COMPONENT_CLASSES = {"result-grid--header", "result-grid--cursor", "result-grid--cell",
                         "result-grid--null"}
    DEFAULT_CSS = """
    ResultGrid { height: 1fr; }
    ResultGrid > .result-grid--header { text-style: bold; background: $panel; }
    ResultGrid > .result-grid--cursor { background: $accent 25%; }
    ResultGrid > .result-grid--cell { background: $accent 70%; text-style: bold; }
    ResultGrid > .result-grid--null { color: $text-muted; text-style: italic; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "last", "Last row", show=False),
        Binding("left", "column(-1)", "Left", show=False),
        Binding("right", "column(1)", "Right", show=False),
        Binding("enter", "open_cell", "Open cell", tooltip="Show the whole value",
                id="grid.open"),
        Binding("y", "copy_cell", "Copy cell", tooltip="Copy the value (OSC 52, works over SSH)",
                id="grid.copy_cell"),
        Binding("Y", "copy_row", "Copy row", tooltip="Copy the row as tab-separated values",
                id="grid.copy_row"),
    ]

    cursor_row: reactive[int] = reactive(0)
    """The row under the cursor (0-based)."""
    cursor_column: reactive[int] = reactive(0)
    """The column under the cursor (0-based)."""

    class NeedMore(Message):
        """The cursor is near the last (or first) fetched row, and there is more."""

        def __init__(self, before: bool = False) -> None:
            super().__init__()
            self.before = before
            """More rows are wanted before the first one held (a window onto a table)."""

    class CellAction(Message):
        """The user asked to open or copy the cell (or row) under the cursor."""

        def __init__(self, action: str, column: str, value: Any, row: tuple[Any, ...]) -> None:
            super().__init__()
            self.action = action
            """open, copy_cell or copy_row."""
            self.column = column
            self.value = value
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.columns: list[str] = []
        self.rows: list[tuple[Any, ...]] = []
        """The rows held: row `held_from` of the result and those after it."""
        self.held_from = 0
        self.widths: list[int] = []
        self.types: list[str] = []
        self.complete = True
        self._asked = False

    @property
    def row_count(self) -> int:
        """The rows of the result known so far (held or not)."""
        return self.held_from + len(self.rows)

    def row_at(self, index: int) -> tuple[Any, ...] | None:
        """Row `index` of the result, when it is held."""
        held = index - self.held_from
        return self.rows[held] if 0 <= held < len(self.rows) else None

    def missing(self, index: int) -> None:
        """Row `index` is on screen but not held (a grid that fetches windows asks for it)."""

    @property
    def header_height(self) -> int:
        """One line of names, and one of types when they are known and the grid has room
        for rows beneath them."""
        return 2 if self.types and self.view_size.height >= TYPES_MIN_HEIGHT else 1

    @property
    def view_size(self) -> Size:
        """What shows of the grid: its size less the scrollbars drawn over its edges (a wide
        result's horizontal bar would otherwise hide the last row)."""
        return self.scrollable_content_region.size

    def start(self, columns: list[str], types: list[str] | None = None) -> None:
        """A new result with these columns (and their types) and no rows yet."""
        self.columns = columns
        self.types = types or []
        self.rows = []
        self.held_from = 0
        self.widths = [min(CELL_WIDTH, max(1, len(name), len(kind)))
                       for name, kind in zip(columns, self.types or [""] * len(columns),
                                             strict=True)]
        self.complete = False
        self._asked = False
        self.cursor_row = 0
        self.cursor_column = 0
        self.scroll_to(0, 0, animate=False)
        self._resize()

    def add_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """More rows of the current result."""
        self.widen(rows[:MORE_MARGIN])
        self.rows.extend(rows)
        self._asked = False
        self._resize()
        self._ask_if_near_end()

    def widen(self, rows: list[tuple[Any, ...]]) -> None:
        """Columns wide enough for these rows (callers pass a sample: cheap), up to
        CELL_WIDTH; they never narrow, so the grid does not jump as it scrolls."""
        for row in rows:
            for index, value in enumerate(row):
                self.widths[index] = max(self.widths[index], min(CELL_WIDTH, len(_text(value))))

    def finish(self) -> None:
        """The result has no more rows."""
        self.complete = True
        self.refresh()

    def action_move(self, delta: int) -> None:
        self._move_to(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        step = max(1, self.view_size.height - self.header_height - 1)
        self._move_to(self.cursor_row + direction * step)

    def action_column(self, delta: int) -> None:
        if self.columns:
            self.cursor_column = max(0, min(self.cursor_column + delta, len(self.columns) - 1))

    def action_open_cell(self) -> None:
        self._cell_action("open")

    def action_copy_cell(self) -> None:
        self._cell_action("copy_cell")

    def action_copy_row(self) -> None:
        self._cell_action("copy_row")

    def _cell_action(self, action: str) -> None:
        row = self.row_at(self.cursor_row)
        if row is not None and self.columns:
            self.post_message(self.CellAction(action, self.columns[self.cursor_column],
                                              row[self.cursor_column], row))

    def watch_cursor_column(self, column: int) -> None:
        left = sum(w + 3 for w in self.widths[:column])
        right = left + (self.widths[column] if column < len(self.widths) else 0) + 2
        if left < self.scroll_offset.x:
            self.scroll_to(x=left, animate=False)
        elif right > self.scroll_offset.x + self.view_size.width:
            self.scroll_to(x=right - self.view_size.width, animate=False)
        self.refresh()

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(self.row_count - 1)

    def _move_to(self, row: int) -> None:
        self.cursor_row = max(0, min(row, self.row_count - 1))

    def watch_cursor_row(self, row: int) -> None:
        visible = max(1, self.view_size.height - self.header_height)
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

    def on_resize(self) -> None:
        self._resize()  # the header may have gained or lost its line of types

    def _resize(self) -> None:
        width = sum(self.widths) + 3 * max(0, len(self.widths) - 1) + 2
        self.virtual_size = Size(width, self.row_count + self.header_height)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.view_size.width
        if y < self.header_height:
            style = self.get_component_rich_style("result-grid--header")
            names = self.columns if y == 0 else self.types
            return self._strip([(name, False) for name in names], style, scroll_x, width)
        index = scroll_y + y - self.header_height
        row = self.row_at(index)
        if row is None:
            if index < self.row_count:
                self.missing(index)
                return self._strip([("…", True)] * len(self.columns), self.rich_style,
                                   scroll_x, width)
            return Strip.blank(width, self.rich_style)
        on_cursor = index == self.cursor_row
        row_mark, cell_marks = self.marks(index)
        style = self.rich_style
        if row_mark:
            style = style + self.get_component_rich_style(row_mark)
        if on_cursor:
            style = style + self.get_component_rich_style("result-grid--cursor")
        return self._strip([(_text(v), v is None) for v in row], style, scroll_x, width,
                           self.cursor_column if on_cursor else None, cell_marks)

    def marks(self, index: int) -> tuple[str | None, dict[int, str]]:
        """The component class of a row, and of some of its cells (by column): none here;
        a grid of pending edits marks what changed."""
        return None, {}

    def _strip(self, cells: list[tuple[str, bool]], style: Style, scroll_x: int,
               width: int, cursor: int | None = None,
               marks: dict[int, str] | None = None) -> Strip:
        null = self.get_component_rich_style("result-grid--null")
        cell_style = self.get_component_rich_style("result-grid--cell")
        segments = [Segment(" ", style)]
        for index, (text, is_null) in enumerate(cells):
            cell_width = self.widths[index] if index < len(self.widths) else len(text)
            if len(text) > cell_width:
                text = text[: cell_width - 1] + "…"
            shown = style
            if marks and index in marks:
                shown = shown + self.get_component_rich_style(marks[index])
            if index == cursor:
                shown = shown + cell_style
            segments.append(Segment(text.ljust(cell_width), shown + null if is_null else shown))
            segments.append(Segment(" │ ", style))
        strip = Strip(segments[:-1] + [Segment(" ", style)])
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, style)


def value_text(value: Any) -> str:
    """A value as one piece of text: JSON compact, bytes as hex, NULL as an empty string."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


def _text(value: Any) -> str:
    """A value as the grid shows it on one line."""
    return "NULL" if value is None else value_text(value).replace("\n", "↵")
