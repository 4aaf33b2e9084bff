"""What running SQL shows in the Query screen: a status line, one tab of rows per statement
(ResultTabs), and a log of command tags, notices and errors. The screen starts statements;
this reads their results (the first batches, then whatever rows the grid asks for, anywhere
in the result) and shows them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import RichLog, Static, TabPane

from crestfall_tui.errors import CrestfallError
from crestfall_tui.modals.prompt import PromptModal
from crestfall_tui.services.export import export_result
from crestfall_tui.services.query_run import QueryRun, Watch
from crestfall_tui.services.query_session import (
    QueryError,
    QueryEvent,
    ResultStarted,
    RowBatch,
    StatementDone,
)
from crestfall_tui.services.sql_text import Statement
from crestfall_tui.widgets.query_grid import QueryGrid
from crestfall_tui.widgets.result_tabs import ResultTabs

T = TypeVar("T")
FIRST_BATCHES = 3
"""Batches taken at once (the first is a screenful); the rest come as the grid asks."""
EARLIER_BATCHES = 20
"""Of a statement that is not the last one run, the rows kept in its tab (20 x 500)."""


class ResultsPanel(Vertical):
    """The status line, the result tabs and the log."""

    class StatementFinished(Message):
        """A statement ran to its end (its rows all read, or it had none)."""

        def __init__(self, done: StatementDone) -> None:
            super().__init__()
            self.done = done

    class ConnectionLost(Message):
        """The server closed the session's idle connection; with `transaction`, the user's
        open transaction was rolled back with it."""

        def __init__(self, transaction: bool) -> None:
            super().__init__()
            self.transaction = transaction

    def __init__(self, run: QueryRun, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.run = run
        self.grid: QueryGrid | None = None
        """The grid of the statement whose rows are coming in."""
        self.status = "ready"

    async def run_statements(self, statements: list[Statement]) -> None:
        """Run the statements in order, each in a tab; the last one's rows stay readable to
        its end. An SQL error ends the run (raised); the session's notices are logged."""
        await self.run.close()
        try:
            await self.reset()
            for index, statement in enumerate(statements):
                await self.run.start(statement)
                if index == len(statements) - 1:
                    await self.pull(FIRST_BATCHES)
                else:
                    # One connection runs one statement at a time: earlier results keep
                    # their first rows, and the next statement starts.
                    await self.pull(EARLIER_BATCHES)
                    if self.run.reading:
                        self.cut(index + 1)
                    await self.run.close()
        finally:
            notices = self.run.session.notices
            for notice in notices:
                self.say(notice)
            notices.clear()

    async def pull(self, batches: int | None) -> None:
        """Show the current statement's events until `batches` batches arrived (all when
        None) or it is done."""
        first = True
        async for event in self.run.take(batches):
            await self.show(event, first_batch=first and isinstance(event, RowBatch))
            first = first and not isinstance(event, RowBatch)
            if isinstance(event, StatementDone):
                self.post_message(self.StatementFinished(event))
        if self.run.reading:
            self.more_to_come()

    @on(QueryGrid.NeedRows)
    def _need_rows(self, event: QueryGrid.NeedRows) -> None:
        self._fetch_rows(event.grid, event.start, event.count)

    @on(QueryGrid.NeedEnd)
    def _need_end(self, event: QueryGrid.NeedEnd) -> None:
        self._fetch_end(event.grid)

    @on(QueryGrid.GoToRowWanted)
    def _go_to_row(self, event: QueryGrid.GoToRowWanted) -> None:
        self._ask_row(event.grid)

    @work(group="fetch", exit_on_error=False)
    async def _fetch_rows(self, grid: QueryGrid, start: int, count: int) -> None:
        """Rows of the result being read, wherever they are (the session's scrollable
        cursor moves there); a grid whose result is no longer open keeps what it holds."""
        rows = await self._from_result(grid, lambda: self.run.window(start, count))
        if rows is None:
            grid.finish()
        else:
            grid.put_rows(start, rows, count)

    @work(group="fetch", exit_on_error=False)
    async def _fetch_end(self, grid: QueryGrid) -> None:
        """`end` before the result's length is known: the server counts the rows (sending
        none), then the last ones are fetched."""
        self.say("counting the result's rows on the server…")
        total = await self._from_result(grid, self.run.size)
        if total is None:
            grid.finish()
        else:
            grid.end_at(total)

    async def _from_result(self, grid: QueryGrid,
                           read: Callable[[], Awaitable[T | None]]) -> T | None:
        """What `read` gets from the result being read, when `grid` still shows it; None
        when it no longer does, or the session could not (said in a notification)."""
        if grid is not self.grid:
            return None
        try:
            return await read()
        except CrestfallError as error:
            self.notify(error.message, title=error.title, severity="error", markup=False)
            return None

    @work(group="ask-row", exclusive=True, exit_on_error=False)
    async def _ask_row(self, grid: QueryGrid) -> None:
        answer = await self.app.push_screen_wait(PromptModal(
            "Go to row (1 is the first; the result's rows need not be read to get there)"))
        number = (answer or "").strip().replace(",", "")
        if number.isdigit():
            grid.go_to(int(number) - 1)
            grid.focus()
        elif answer:
            self.notify(f"not a row number: {answer}", severity="warning", markup=False)

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

    async def export(self, statement: Statement, path: Path) -> None:
        """The statement's whole result streamed into the file, the bytes (and rows)
        written shown as they go."""
        started = time.monotonic()

        def progress(written: int, rows: int | None) -> None:
            counted = f", {rows:,} rows" if rows is not None else ""
            self.status = f"exporting to {path.name}: {written / 1e6:.1f} MB{counted}"

        report = await export_result(self.run.session, statement, path, progress)
        self.status = (f"exported {report.rows:,} rows, {report.bytes_written / 1e6:.1f} MB "
                       f"to {path} in {time.monotonic() - started:.1f}s")
        self.say(self.status)

    def _watch(self) -> None:
        """Between runs: a connection the server closed, or a result left idle too long."""
        found = self.run.watch()
        if found in (Watch.LOST, Watch.LOST_TRANSACTION):
            self.post_message(self.ConnectionLost(found == Watch.LOST_TRANSACTION))
        elif found == Watch.RELEASE:
            self._release()

    @work(group="release", exit_on_error=False)
    async def _release(self) -> None:
        """End a half-read result's own transaction; the rows shown stay."""
        if await self.run.release_idle():
            self.released(self.run.session.idle_release_s)

    def tick(self, running: bool, started: float) -> None:
        """The status line, with the time a run or an export has taken so far; between
        runs, a look at the session."""
        if not running and not self.run.lock.locked():
            self._watch()
        line = self.query_one("#query-status", Static)
        taken = f"{time.monotonic() - started:.1f}s"
        if running and self.status.startswith("exporting"):
            line.update(f"{self.status}   {taken}")
        elif running:
            line.update(f"running… {taken}   (escape cancels)")
        else:
            line.update(self.status)
