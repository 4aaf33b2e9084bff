"""What running SQL shows in the Query screen: a status line, one tab of rows per statement
(ResultTabs), and a log of command tags, notices and errors. The screen runs; this shows."""

from __future__ import annotations

import asyncio
import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog, Static, TabPane

from crestfall_tui.services.query_session import (
    QueryError,
    QueryEvent,
    ResultStarted,
    RowBatch,
    StatementDone,
)
from crestfall_tui.widgets.query_grid import QueryGrid
from crestfall_tui.widgets.result_tabs import ResultTabs


class ResultsPanel(Vertical):
    """The status line, the result tabs and the log."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.grid: QueryGrid | None = None
        """The grid of the statement whose rows are coming in."""
        self.status = "ready"

    def compose(self) -> ComposeResult:
        yield Static("ready", id="query-status")
        with ResultTabs(id="results"), TabPane("Result", id="result-0"):
            yield QueryGrid()
        yield RichLog(id="query-log", markup=False, wrap=True, max_lines=500)

    def on_mount(self) -> None:
        self.query_one(ResultTabs).border_title = "Results"

    def on_query_grid_moved(self, event: QueryGrid.Moved) -> None:
        """The cursor's place in the result, under the results' frame."""
        self.query_one(ResultTabs).border_subtitle = event.where

    def say(self, line: str) -> None:
        """A line in the log."""
        self.query_one(RichLog).write(line)

    async def reset(self) -> None:
        """A new run: no tabs yet."""
        await self.query_one(ResultTabs).reset()
        self.grid = None

    async def show(self, event: QueryEvent, *, first_batch: bool = False) -> None:
        """One event of the statement running."""
        if isinstance(event, ResultStarted):
            self.grid = await self.query_one(ResultTabs).open(event.statement.text)
            self.grid.start([c.name for c in event.columns],
                            [c.type_name for c in event.columns])
        elif isinstance(event, RowBatch) and self.grid is not None:
            self.grid.add_rows(event.rows)
            if first_batch:
                await asyncio.sleep(0)  # let the first rows paint before the next
        elif isinstance(event, StatementDone):
            if self.grid is not None:
                self.grid.finish()
            self.status = f"{event.status} in {event.elapsed_s:.3f}s"
            self.say(f"{event.status}  ({event.elapsed_s:.3f}s)")

    def more_to_come(self) -> None:
        """The result has more rows on the server."""
        if self.grid is not None:
            self.status = (f"{self.grid.row_count:,} rows so far; scroll for more, end for "
                           "the last, g for any")

    def cut(self, number: int) -> None:
        """An earlier statement of a run keeps the rows it has."""
        if self.grid is not None:
            self.grid.finish()
            self.say(f"showing the first {self.grid.row_count} rows of statement {number}; "
                     "run it alone to page through all")

    def released(self, idle_s: float) -> None:
        """A half-read result gave its transaction back."""
        held = "no rows"
        if self.grid is not None:
            grid = self.grid
            if grid.rows:
                held = f"rows {grid.held_from + 1:,} to {grid.held_from + len(grid.rows):,}"
            grid.finish()
        self.status = (f"showing {held}: the result was released after {idle_s:g}s idle, "
                       "so the session holds no locks; run it again for the rest")
        self.say(self.status)

    def error(self, error: QueryError) -> None:
        """Postgres's message, detail and hint."""
        self.say(f"ERROR:  {error.message}")
        if error.detail:
            self.say(f"DETAIL:  {error.detail}")
        if error.hint:
            self.say(f"HINT:  {error.hint}")
        self.status = f"error: {error.message}"

    def tick(self, running: bool, started: float) -> None:
        """The status line, with the time a run or an export has taken so far."""
        line = self.query_one("#query-status", Static)
        taken = f"{time.monotonic() - started:.1f}s"
        if running and self.status.startswith("exporting"):
            line.update(f"{self.status}   {taken}")
        elif running:
            line.update(f"running… {taken}   (escape cancels)")
        else:
            line.update(self.status)
