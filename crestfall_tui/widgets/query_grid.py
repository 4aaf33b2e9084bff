"""The Query section's grid: a window onto a result of any size. It holds a few thousand
rows at most, wherever in the result they are, and asks for the rows it lacks (NeedRows) as
the cursor or the view reaches them: the next ones as you scroll, any window after `end`
or a go-to-row, read by the session's scrollable cursor without the rows in between."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.message import Message

from crestfall_tui.widgets.result_grid import ResultGrid

WINDOW = 5000
"""Rows held at most; beyond that, those farthest from the cursor are let go."""
FETCH = 500
"""Rows asked for at a time."""
MARGIN = 100
"""Ask for more when the cursor comes this close to the edge of what is held."""
MORE_SAMPLE = 100
"""Rows of each batch that widen the columns (a sample: cheap)."""


class QueryGrid(ResultGrid):
    """Rows of one statement's result; `start`, `add_rows`, `put_rows`, `finish` feed it."""

    BINDINGS = [
        Binding("end", "last", "Last row", show=False,
                tooltip="The result's last row (the server counts the rows; none are sent)"),
        Binding("g", "go_to_row", "Go to row", show=False,
                tooltip="Any row of the result, by its number", id="query.go_to_row"),
    ]

    class NeedRows(Message):
        """Rows `start` to `start + count - 1` of the result are wanted."""

        def __init__(self, grid: QueryGrid, start: int, count: int) -> None:
            super().__init__()
            self.grid = grid
            self.start = start
            self.count = count

    class NeedEnd(Message):
        """The user wants the last row, and the result's length is not known yet."""

        def __init__(self, grid: QueryGrid) -> None:
            super().__init__()
            self.grid = grid

    class GoToRowWanted(Message):
        """The user asked to go to a row by its number (someone asks which)."""

        def __init__(self, grid: QueryGrid) -> None:
            super().__init__()
            self.grid = grid

    class Moved(Message):
        """The cursor's place in the result changed: "row N", or "row N of M" once the
        result's length is known."""

        def __init__(self, where: str) -> None:
            super().__init__()
            self.where = where

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.total: int | None = None
        """The result's length, once known (read to its end, or counted)."""
        self.live = True
        """Rows not held can still be fetched (the result is open on the server)."""
        self._target: int | None = None

    @property
    def row_count(self) -> int:
        return self.total if self.total is not None else super().row_count

    def start(self, columns: list[str], types: list[str] | None = None) -> None:
        self.total = None
        self.live = True
        self._target = None
        super().start(columns, types)

    def finish(self) -> None:
        """No more rows will be fetched: the result was read to its end, cut or released.
        What is held stays; a length not known yet ends at the last row held."""
        self.live = False
        if self.total is None:
            self.total = super().row_count
        super().finish()
        self._resize()
        self._say_where()

    def add_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """The next rows, in order (the first batches of a result)."""
        self.put_rows(super().row_count, rows, None)

    def put_rows(self, start: int, rows: list[tuple[Any, ...]], asked: int | None) -> None:
        """Rows `start`... of the result; fewer than `asked` means the result ends there."""
        held_end = self.held_from + len(self.rows)
        if self.rows and start == held_end:
            self.rows.extend(rows)
            extra = len(self.rows) - WINDOW
            if extra > 0 and self.cursor_row - self.held_from > extra:
                del self.rows[:extra]
                self.held_from += extra
        elif self.rows and start + len(rows) == self.held_from:
            self.rows[:0] = rows
            self.held_from = start
            del self.rows[WINDOW:]
        else:
            self.rows, self.held_from = list(rows), start
        if asked is not None and len(rows) < asked:
            self.total = start + len(rows)
        self.widen(rows[:MORE_SAMPLE])
        self._asked = False
        self._resize()
        if self._target is not None and self.row_at(self._target) is not None:
            target, self._target = self._target, None
            self.cursor_row = target
        elif self._target is not None and self.total is not None and \
                self._target >= self.total:
            self._target = None
            self.cursor_row = max(0, self.total - 1)
        self._want_rows()
        self._say_where()

    def go_to(self, index: int) -> None:
        """Put the cursor on row `index` (0-based), fetching it first when it is not held."""
        index = max(0, index)
        if self.total is not None:
            index = min(index, max(0, self.total - 1))
        if self.row_at(index) is not None:
            self.cursor_row = index
        else:
            self._target = index
            self._asked = False
            self._want_rows()

    def end_at(self, total: int) -> None:
        """The result has `total` rows (counted): go to the last."""
        self.total = total
        self._resize()
        self.go_to(total - 1)

    def action_go_to_row(self) -> None:
        self.post_message(self.GoToRowWanted(self))

    def action_first(self) -> None:
        self.go_to(0)

    def action_last(self) -> None:
        if self.total is not None:
            self.go_to(self.total - 1)
        elif self.live:
            self.post_message(self.NeedEnd(self))

    def _move_to(self, row: int) -> None:
        self.go_to(max(0, min(row, self.row_count - 1)))

    def watch_cursor_row(self, row: int) -> None:
        super().watch_cursor_row(row)
        self._say_where()

    def _say_where(self) -> None:
        if not self.columns or not self.row_count:
            self.post_message(self.Moved(""))
            return
        where = f"row {self.cursor_row + 1:,}"
        if self.total is not None:
            where += f" of {self.total:,}"
        elif self.live:
            where += f" of {super().row_count:,}+"
        self.post_message(self.Moved(where))

    def _ask_if_near_end(self) -> None:
        self._want_rows()

    def missing(self, index: int) -> None:
        """A row on screen is not held (the view was scrolled there): fetch around it."""
        if self.live and not self._asked:
            self._ask(index - FETCH // 2)

    def _want_rows(self) -> None:
        """Ask for the rows the cursor is on or near, when they are not held."""
        if not self.live or self._asked:
            return
        cursor = self._target if self._target is not None else self.cursor_row
        held_end = self.held_from + len(self.rows)
        if not self.held_from <= cursor < held_end:
            self._ask(cursor - FETCH // 2)
        elif cursor + MARGIN >= held_end and (self.total is None or held_end < self.total):
            self._ask(held_end)
        elif cursor - MARGIN < self.held_from and self.held_from > 0:
            start = max(0, self.held_from - FETCH)
            self._ask(start, self.held_from - start)

    def _ask(self, start: int, count: int = FETCH) -> None:
        if self.total is not None:
            start = min(start, self.total - count)
        self._asked = True
        self.post_message(self.NeedRows(self, max(0, start), count))

