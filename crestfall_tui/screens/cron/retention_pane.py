"""The Retention tab: how big pg_cron's history is and how fast each job grows it; p
deletes old runs in batches with progress, i installs that clean-up as a cron job of its
own, x makes the history indexes the section's lookups need (shown before they are made).
The Settings table below lists the `cron.*` settings with their sources."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from crestfall_tui.modals import PromptModal
from crestfall_tui.services import cron_retention
from crestfall_tui.services.cron import Cron
from crestfall_tui.services.units import parse_duration
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.text_table import TextTable

MIB = 2**20


class RetentionPane(Pane):
    """The history's size and growth, pruning, the clean-up job, the indexes."""

    BINDINGS = [
        Binding("p", "prune", "Prune", tooltip="Delete runs older than a span, in batches",
                id="cron_retention.prune"),
        Binding("i", "install", "Clean-up job", tooltip="Install a daily job that keeps N "
                "days of history", id="cron_retention.install"),
        Binding("x", "indexes", "Indexes", tooltip="Make the history indexes (shown first)",
                id="cron_retention.indexes"),
        Binding("r", "reload", "Reload", id="cron_retention.reload"),
    ]

    def __init__(self, cron: Cron, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.cron = cron
        self.missing: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="cron-size", markup=False)
        yield TextTable(id="cron-growth")
        yield TextTable(id="cron-settings")

    def on_mount(self) -> None:
        growth = self.query_one("#cron-growth", DataTable)
        for column in ("job", "runs a day", "MiB a day (estimate)", "schedule"):
            growth.add_column(column, key=column)
        settings = self.query_one("#cron-settings", DataTable)
        for column in ("setting", "value", "set by"):
            settings.add_column(column, key=column)
        self.query_one("#cron-size").border_title = "cron.job_run_details"
        growth.border_title = "Growth per job (runs in the last 24 hours)"
        settings.border_title = "Settings (pg_settings)"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in ("prune", "install", "indexes")
                    and self.cron.postgres.read_only)

    def action_reload(self) -> None:
        self.load()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        size = await cron_retention.history_size(self.cron)
        self.missing = await self.cron.missing_indexes()
        per_row = size.bytes / size.rows if size.rows else 0
        lines = [f"{size.bytes / MIB:,.1f} MiB, ~{size.rows:,} runs (estimate), oldest "
                 f"{size.oldest:%Y-%m-%d %H:%M}" if size.oldest else
                 f"{size.bytes / MIB:,.1f} MiB, no runs",
                 f"growing ~{size.rows_per_day:,} runs (~{size.bytes_per_day / MIB:,.1f} MiB) "
                 "a day",
                 f"clean-up job: {size.cleanup.schedule} ({size.cleanup.words}), "
                 f"{'active' if size.cleanup.active else 'disabled'}" if size.cleanup else
                 "no clean-up job: i installs one"]
        if self.missing:
            lines.append(f"! {len(self.missing)} history index(es) missing: a job's history "
                         "and failed runs read the whole table; x shows and makes them")
        self.query_one("#cron-size", Static).update("\n".join(lines))
        growth = self.query_one("#cron-growth", DataTable)
        growth.clear()
        for job, runs in size.per_job:
            growth.add_row(job.name or str(job.id), f"{runs:,}",
                           f"{runs * per_row / MIB:,.2f}", job.schedule)
        settings = self.query_one("#cron-settings", DataTable)
        settings.clear()
        for name, value, source in await self.cron.settings():
            settings.add_row(name, value, source)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_prune(self) -> None:
        answer = await self.app.push_screen_wait(PromptModal(
            "Delete the runs that ended longer ago than (as 30d, 12h):", "30d"))
        if not answer:
            return
        older_than = parse_duration(answer)
        if not await self.confirm(f"Delete every run older than {older_than}, 10,000 at a "
                                  "time?", "Delete"):
            return
        size = self.query_one("#cron-size", Static)
        deleted = await cron_retention.prune(
            self.cron, older_than, progress=lambda n: size.update(f"pruning: {n:,} deleted"))
        self.notify(f"deleted {deleted:,} run(s) older than {older_than}", title="Cron")
        self.load()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_install(self) -> None:
        answer = await self.app.push_screen_wait(PromptModal(
            "Keep how many days of history? A job will delete older runs daily at 03:17 "
            f"({cron_retention.CLEANUP_JOB}):", "30"))
        if not answer:
            return
        if not answer.isdigit():
            self.notify(f"not a number of days: {answer}", severity="warning")
            return
        job = await cron_retention.install_cleanup(self.cron, int(answer))
        self.notify(f"{job.name}: {job.command}", title="Clean-up job", markup=False)
        self.load()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_indexes(self) -> None:
        if not self.missing:
            self.notify("the history indexes are there", title="Cron")
            return
        if await self.confirm("Make these indexes (concurrently: runs keep being "
                              "written)?\n\n" + ";\n".join(self.missing), "Make them"):
            made = await self.cron.create_indexes()
            self.notify(f"made {len(made)} index(es)", title="Cron")
            self.load()
