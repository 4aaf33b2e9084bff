"""The Cron section (F6): pg_cron's jobs with their next runs and health, run now and dry
run; the runs of every job; the history's retention and pg_cron's settings; each in a tab
that owns its keys."""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane

from crestfall_tui.screens.base import CrestfallScreen
from crestfall_tui.screens.cron.jobs_pane import JobsPane
from crestfall_tui.screens.cron.retention_pane import RetentionPane
from crestfall_tui.screens.cron.runs_pane import RunsPane
from crestfall_tui.services.cron import Cron

TABS = ("jobs", "runs", "retention")


class CronScreen(CrestfallScreen):
    """Jobs, Runs and Retention, in tabs (1 to 3)."""

    CSS_PATH = "cron.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    SECTION = "Cron"
    ABOUT = ("pg_cron's jobs: schedule in words, next runs in the zone pg_cron schedules "
             "in, last run and 24 hours, health; run now (logged as a manual run) and dry "
             "run; every job's runs; the history's size, pruning and clean-up job; "
             "settings. 1 to 3 switch tabs.")
    BINDINGS = [
        Binding("1", "tab('jobs')", "Jobs", show=False, id="cron.tab_jobs"),
        Binding("2", "tab('runs')", "Runs", show=False, id="cron.tab_runs"),
        Binding("3", "tab('retention')", "Retention", show=False, id="cron.tab_retention"),
    ]

    def __init__(self, cron: Cron) -> None:
        super().__init__()
        self.cron = cron

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="cron-tabs", initial="jobs"):
            with TabPane("1 Jobs", id="jobs"):
                yield JobsPane(self.cron, id="cron-jobs-pane")
            with TabPane("2 Runs", id="runs"):
                yield RunsPane(self.cron, id="cron-runs-pane")
            with TabPane("3 Retention", id="retention"):
                yield RetentionPane(self.cron, id="cron-retention-pane")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cron-jobs", DataTable).focus()

    async def on_unmount(self) -> None:
        await self.cron.close()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """Runs and Retention read when shown (and again on r); the tab's table takes the
        keys."""
        pane = event.pane
        if pane.id == "runs":
            self.query_one(RunsPane).load()
        elif pane.id == "retention":
            self.query_one(RetentionPane).load()
        tables = pane.query(DataTable)
        if tables:
            tables.first().focus()

    def commands(self) -> Iterable[SystemCommand]:
        jobs = self.query_one(JobsPane)
        yield SystemCommand("Cron: new job", "Schedule a command", jobs.action_new)
        yield SystemCommand("Cron: run the selected job now", "Logged as a manual run",
                            jobs.action_run_now)
        yield SystemCommand("Cron: dry run of the selected job", "EXPLAIN as its user, "
                            "rolled back", jobs.action_dry_run)
        retention = self.query_one(RetentionPane)
        yield SystemCommand("Cron: prune the history", "Delete old runs in batches",
                            retention.action_prune)
        for number, tab in enumerate(TABS, 1):
            yield SystemCommand(f"Cron: {tab} tab ({number})", f"Show the {tab} tab",
                                lambda tab=tab: self.action_tab(tab))
