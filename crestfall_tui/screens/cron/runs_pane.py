"""The Runs tab: the runs of every job, newest first and paged by key (failed only on f,
within a span on s), what runs right now with its backend pid, and k to cancel one."""

from __future__ import annotations

from datetime import UTC, timedelta, tzinfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from crestfall_tui.modals import PromptModal
from crestfall_tui.screens.cron.run_table import RunTable, cancel_run
from crestfall_tui.screens.cron.shown import run_id, took
from crestfall_tui.services.cron import Cron, CronRun
from crestfall_tui.services.units import parse_duration
from crestfall_tui.widgets.pane import Pane

PAGE = 200


class RunsPane(Pane):
    """Runs across jobs."""

    BINDINGS = [
        Binding("f", "failed", "Failed only", tooltip="Show only failed runs",
                id="cron_runs.failed"),
        Binding("s", "since", "Since", tooltip="Only runs started within a span (24h, 7d)",
                id="cron_runs.since"),
        Binding("k", "cancel", "Cancel run", tooltip="Cancel the highlighted running run "
                "(pg_cancel_backend)", id="cron_runs.cancel"),
        Binding("r", "reload", "Reload", id="cron_runs.reload"),
    ]

    def __init__(self, cron: Cron, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.cron = cron
        self.zone: tzinfo = UTC
        self.names: dict[int, str] = {}
        self.failed_only = False
        self.since: timedelta | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="cron-running", markup=False)
        yield RunTable(names=self.names, id="cron-runs")

    def on_mount(self) -> None:
        self.query_one("#cron-running").border_title = "Running now"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "cancel" and self.cron.postgres.read_only)

    def action_reload(self) -> None:
        self.load()

    def action_failed(self) -> None:
        self.failed_only = not self.failed_only
        self.load()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_since(self) -> None:
        answer = await self.app.push_screen_wait(PromptModal(
            "Only runs started within (as 30m, 24h, 7d; empty for all):",
            "" if self.since is None else f"{int(self.since.total_seconds() // 3600)}h",
            empty_allowed=True))
        if answer is None:
            return
        self.since = parse_duration(answer) if answer else None
        self.load()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self, more: bool = False) -> None:
        table = self.query_one(RunTable)
        if not more:
            self.zone = await self.cron.zone()
            self.names.clear()
            self.names.update({job.id: job.name or str(job.id)
                               for job in await self.cron.jobs()})
            self.show_running(await self.cron.running())
        page = await self.cron.history(failed=self.failed_only, since=self.since,
                                       after=table.after if more else None, limit=PAGE)
        table.show(page, self.zone, more=more)
        what = "Failed runs" if self.failed_only else "Runs"
        within = f" in the last {self.since}" if self.since else ""
        table.border_title = (f"{what}{within}, newest first: {len(table.runs):,}"
                              f"{'+' if page.after else ''}")

    def show_running(self, running: list[CronRun]) -> None:
        self.query_one("#cron-running", Static).update(
            "\n".join(f"{self.names.get(run.job_id, run.job_id)}: run {run_id(run)} "
                      f"{run.status}, pid {run.pid or '-'}, for {took(self._age(run))}"
                      for run in running[:5]) or "nothing")

    @staticmethod
    def _age(run: CronRun) -> timedelta | None:
        from datetime import datetime

        return None if run.start is None else datetime.now(UTC) - run.start

    @on(RunTable.MoreWanted)
    def more_wanted(self) -> None:
        self.load(more=True)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_cancel(self) -> None:
        run = self.query_one(RunTable).run
        job = self.names.get(run.job_id, str(run.job_id)) if run else ""
        if await cancel_run(self, self.cron, run, job):
            self.load()
