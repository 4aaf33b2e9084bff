"""A table of cron runs, newest first and a page at a time (it asks for the next page as the
cursor nears its end), and the question that cancels one: shared by the Jobs and Runs
tabs."""

from __future__ import annotations

from datetime import tzinfo

from textual.message import Message
from textual.widgets import DataTable

from crestfall_tui.screens.cron.shown import RUN_COLUMNS, run_cells, run_id
from crestfall_tui.services.cron import Cron, CronRun, HistoryKey, RunPage
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.text_table import TextTable

NEAR_END = 10


class RunTable(TextTable):
    """Runs as read, with the key of the next page (None at the end of the history)."""

    class MoreWanted(Message):
        """The cursor is near the last run shown, and there are more."""

    def __init__(self, *, names: dict[int, str] | None = None,
                 id: str | None = None) -> None:  # noqa: A002
        """`names`: the jobs' names by id, for a job column (runs of every job)."""
        super().__init__(id=id)
        self.names = names
        self.runs: list[CronRun] = []
        self.after: HistoryKey | None = None
        self._asked = False

    def on_mount(self) -> None:
        for column in ("job", *RUN_COLUMNS) if self.names is not None else RUN_COLUMNS:
            self.add_column(column, key=column)

    def show(self, page: RunPage, zone: tzinfo, *, more: bool = False) -> None:
        """Show a page: after the runs shown when `more`, else in their place."""
        if not more:
            self.runs = []
            self.clear()
        self.after, self._asked = page.after, False
        for run in page.runs:
            self.runs.append(run)
            cells = run_cells(run, zone)
            if self.names is not None:
                cells = (self.names.get(run.job_id, str(run.job_id)), *cells)
            self.add_row(*cells)

    @property
    def run(self) -> CronRun | None:
        """The highlighted run."""
        return self.runs[self.cursor_row] if 0 <= self.cursor_row < len(self.runs) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.after and not self._asked and event.cursor_row >= len(self.runs) - NEAR_END:
            self._asked = True
            self.post_message(self.MoreWanted())


async def cancel_run(pane: Pane, cron: Cron, run: CronRun | None, job: str) -> bool:
    """Ask, then cancel a running run's statement (`pg_cancel_backend`); whether a cancel
    was sent."""
    if run is None or run.end is not None:
        pane.notify("highlight a run that is still running", severity="warning")
        return False
    if not await pane.confirm(f"Cancel run {run_id(run)} of {job} (backend pid {run.pid})?",
                              "Cancel it"):
        return False
    signalled = await cron.cancel(run)
    pane.notify("cancel sent" if signalled else "that run is no longer running", title="Cron")
    return signalled
