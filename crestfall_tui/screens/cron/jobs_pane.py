"""The Jobs tab: every pg_cron job with its schedule in words, its next runs, its last run
and its 24 hours; the highlighted job's health, a sparkline of its run times and its
history (pg_cron's runs and the studio's manual ones, paged by key). Keys make, change,
pause, remove, run now, dry-run and cancel."""

from __future__ import annotations

import asyncio
from datetime import UTC, tzinfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Sparkline, Static
from textual.worker import Worker

from crestfall_tui.modals import TextModal
from crestfall_tui.screens.cron.job_form import JobForm
from crestfall_tui.screens.cron.run_table import RunTable, cancel_run
from crestfall_tui.screens.cron.shown import took, when
from crestfall_tui.services import cron_manual
from crestfall_tui.services.cron import Cron, CronJob, CronRun
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.text_table import TextTable

PAGE = 100


class JobsPane(Pane):
    """The jobs, and the highlighted one in detail."""

    BINDINGS = [
        Binding("n", "new", "New", tooltip="Schedule a new job", id="cron.new"),
        Binding("e", "edit", "Edit", tooltip="Change the job's schedule, command, database "
                "or user", id="cron.edit"),
        Binding("space", "switch", "On/off", tooltip="Enable or disable the job",
                id="cron.toggle"),
        Binding("t", "run_now", "Run now", tooltip="Run the command now as the job's user, "
                "logged as a manual run", id="cron.run_now"),
        Binding("k", "cancel", "Cancel run", tooltip="Cancel the run now going, or the "
                "highlighted running run (pg_cancel_backend)", id="cron.cancel"),
        Binding("D", "dry_run", "Dry run", tooltip="EXPLAIN the command as the job's user, "
                "rolled back", id="cron.dry_run"),
        Binding("d", "remove", "Remove", tooltip="Unschedule the job (its history stays)",
                id="cron.remove"),
        Binding("f", "failed", "Failed only", tooltip="Show only the job's failed runs",
                id="cron.failed"),
        Binding("r", "reload", "Reload", id="cron.reload"),
    ]

    def __init__(self, cron: Cron, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.cron = cron
        self.zone: tzinfo = UTC
        self.jobs: list[CronJob] = []
        self.failed_only = False
        self._run_now: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="cron-summary", markup=False)
        yield TextTable(id="cron-jobs")
        with Horizontal(id="cron-job-body"):
            with Vertical(id="cron-job-side"):
                yield Static("", id="cron-job-detail", markup=False)
                yield Sparkline([], id="cron-durations")
            yield RunTable(id="cron-job-runs")

    def on_mount(self) -> None:
        self.query_one("#cron-job-detail").border_title = "Job"
        self.query_one("#cron-durations").border_title = "Run times, oldest to newest"
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("new", "edit", "switch", "run_now", "remove", "cancel"):
            return not self.cron.postgres.read_only
        return True

    @property
    def job(self) -> CronJob | None:
        row = self.query_one("#cron-jobs", DataTable).cursor_row
        return self.jobs[row] if 0 <= row < len(self.jobs) else None

    def action_reload(self) -> None:
        self.load()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self, keep: int | None = None) -> None:
        """Read the jobs; keep the cursor on the job `keep` (by id) where it still is."""
        version = await self.cron.version()
        self.zone = await self.cron.zone()
        self.jobs = await self.cron.jobs()
        every = await self.cron.sees_every_job()
        table = self.query_one("#cron-jobs", DataTable)
        current = self.job.id if keep is None and self.job else keep
        if not table.columns:  # once the zone is known: it is named beside every time
            for column in ("id", "name", "schedule", "in words", f"next run ({self.zone})",
                           "on", "last", f"last start ({self.zone})", "took", "24h runs",
                           "failed", "health", "user@db", "command"):
                table.add_column(column, key=column)
        table.clear()
        flagged = 0
        for job in self.jobs:
            flags = job.health(zone=self.zone)
            flagged += bool(flags)
            table.add_row(*self._cells(job, flags), key=str(job.id))
        summary = (f"pg_cron {version} · times in {self.zone} (cron.timezone) · "
                   f"{len(self.jobs)} job(s), {flagged} with health flags")
        if not every:
            summary += ("\n! your role sees only its own jobs (pg_cron's row security); "
                        "a superuser sees them all")
        self.query_one("#cron-summary", Static).update(summary)
        table.border_title = "Jobs"
        ids = [job.id for job in self.jobs]
        if current in ids:
            table.move_cursor(row=ids.index(current))
        self.show_job()

    def _cells(self, job: CronJob, flags: list[str]) -> tuple[str, ...]:
        upcoming = job.next_runs(self.zone, count=1) if job.active else []
        return (str(job.id), job.name or "-", job.schedule, job.words[:40],
                when(upcoming[0], self.zone) if upcoming else "-",
                "yes" if job.active else "no", job.last_status or "-",
                when(job.last_start, self.zone), took(job.last_duration), str(job.runs_24h),
                str(job.failures_24h), f"! {len(flags)}" if flags else "ok",
                f"{job.username}@{job.database}",
                (job.command.strip().splitlines() or [""])[0][:60])

    @on(DataTable.RowHighlighted, "#cron-jobs")
    def job_highlighted(self) -> None:
        self.show_job()

    def show_job(self) -> None:
        job = self.job
        detail = self.query_one("#cron-job-detail", Static)
        if job is None:
            detail.update("no cron jobs yet: n schedules one")
            self.query_one(RunTable).clear()
            return
        upcoming = job.next_runs(self.zone) if job.active else []
        # What needs looking at first (the health flags), so that 80x24 shows it too.
        lines = [f"{job.name or '-'} (id {job.id}): {job.schedule}", job.words]
        lines += [f"! {flag}" for flag in job.health(zone=self.zone)] or ["healthy"]
        lines += [f"next ({self.zone}): " + (", ".join(f"{at:%a %m-%d %H:%M}" for at in upcoming)
                                             if upcoming else "none (disabled)"),
                  f"24 h: {job.runs_24h} run(s), {job.failures_24h} failed; the schedule "
                  f"expected {job.expected_24h(zone=self.zone)}" if job.active and
                  job.first_start else f"24 h: {job.runs_24h} run(s), {job.failures_24h} failed",
                  f"runs as {job.username} in {job.database}",
                  "", *job.command.strip().splitlines()[:6]]
        detail.update("\n".join(lines))
        self.load_runs(job)

    @work(group="runs", exclusive=True, exit_on_error=False)
    async def load_runs(self, job: CronJob, more: bool = False) -> None:
        table = self.query_one(RunTable)
        page = await self.cron.history(job.id, failed=self.failed_only,
                                       after=table.after if more else None, limit=PAGE)
        table.show(page, self.zone, more=more)
        table.border_title = (f"{'Failed runs' if self.failed_only else 'Runs'}, newest "
                              f"first: {len(table.runs):,}{'+' if page.after else ''}")
        durations = [run.duration.total_seconds() for run in reversed(table.runs)
                     if run.duration is not None]
        self.query_one("#cron-durations", Sparkline).data = durations or [0.0]

    @on(RunTable.MoreWanted)
    def more_wanted(self) -> None:
        if self.job is not None:
            self.load_runs(self.job, more=True)

    def action_failed(self) -> None:
        self.failed_only = not self.failed_only
        if self.job is not None:
            self.load_runs(self.job)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_new(self) -> None:
        kept = await self.app.push_screen_wait(JobForm(self.cron, self.zone))
        if kept is not None:
            self.notify(f"scheduled {kept.name}: {kept.words}", title="Cron")
            self.load(keep=kept.id)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_edit(self) -> None:
        if (job := self.job) is None:
            return
        kept = await self.app.push_screen_wait(JobForm(self.cron, self.zone, job))
        if kept is not None:
            self.notify(f"changed {kept.name or kept.id}", title="Cron")
            self.load(keep=kept.id)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_switch(self) -> None:
        if (job := self.job) is None:
            return
        changed = await self.cron.set_active(str(job.id), not job.active)
        self.notify(f"{changed.name or changed.id} "
                    f"{'enabled' if changed.active else 'disabled'}", title="Cron")
        self.load(keep=job.id)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_remove(self) -> None:
        if (job := self.job) is None:
            return
        if await self.confirm(f"Unschedule the cron job {job.name or job.id} "
                              f"({job.schedule})? Its history stays.", "Unschedule"):
            await self.cron.remove(str(job.id))
            self.notify(f"unscheduled {job.name or job.id}", title="Cron")
            self.load()

    def action_run_now(self) -> None:
        if (job := self.job) is None:
            return
        if self._run_now is not None and self._run_now.is_running:
            self.notify("a run is going already: k cancels it", severity="warning")
            return
        self._run_now = self.run_now(job)

    @work(group="run_now", exit_on_error=False)
    async def run_now(self, job: CronJob) -> None:
        def started(run: CronRun) -> None:
            self.notify(f"running {job.name or job.id} now (manual run m{run.id}, pid "
                        f"{run.pid}): k cancels", title="Cron")
            self.load_runs(job)

        try:
            run = await cron_manual.run_now(self.cron, str(job.id), started=started)
        except asyncio.CancelledError:
            self.notify(f"cancelled the run of {job.name or job.id}", title="Cron",
                        severity="warning")
            self.load_runs(job)
            raise
        self.notify(f"{job.name or job.id}: {run.status} in {took(run.duration)}: "
                    f"{run.return_message}", title="Cron",
                    severity="information" if run.status == "succeeded" else "error",
                    markup=False)
        if self.job is not None and self.job.id == job.id:
            self.load_runs(job)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_cancel(self) -> None:
        if self._run_now is not None and self._run_now.is_running:
            self._run_now.cancel()
            return
        job = self.job
        if await cancel_run(self, self.cron, self.query_one(RunTable).run,
                            job.name or str(job.id) if job else "") and job is not None:
            self.load_runs(job)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_dry_run(self) -> None:
        if (job := self.job) is None:
            return
        planned = await cron_manual.dry_run(self.cron, job)
        text = "\n\n".join(
            f"-- {p.text}\n" + (p.plan or (f"-- ! {p.problem}" if p.problem else
                                           "-- not planned: runs as written"))
            for p in planned)
        await self.app.push_screen_wait(TextModal(
            f"Dry run of {job.name or job.id} as {job.username} in {job.database} "
            "(EXPLAIN, rolled back)", text or "no statements"))
