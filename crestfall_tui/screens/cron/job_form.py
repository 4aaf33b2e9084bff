"""A cron job's form: name, schedule (said in words with its next runs as it is typed),
database and user, and the command in the SQL editor. ctrl+s lets pg_cron check the
schedule and keeps the job; a refusal shows in the form, so nothing typed is lost."""

from __future__ import annotations

from datetime import tzinfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static, TextArea

from crestfall_tui.errors import CrestfallError
from crestfall_tui.modals import CrestfallModal
from crestfall_tui.services.cron import Cron, CronJob
from crestfall_tui.services.cron_schedule import in_words, next_runs
from crestfall_tui.widgets import SqlEditor


class JobForm(CrestfallModal[CronJob | None]):
    """Dismisses with the job as kept, or None when cancelled. A job's name stays as it is
    (pg_cron 1.4 cannot rename one)."""

    DEFAULT_CSS = """
    JobForm > .frame { height: 90%; }
    JobForm .fields { height: auto; }
    JobForm .field { width: 1fr; height: auto; }
    JobForm .field Label { color: $text-muted; }
    JobForm #job-said { height: 2; color: $text-muted; }
    JobForm #job-error { color: $error; height: auto; }
    JobForm TextArea { height: 1fr; }
    """
    BINDINGS = [Binding("ctrl+s", "keep", "Keep", tooltip="Check the schedule with pg_cron "
                        "and keep the job", id="cron_form.keep")]

    def __init__(self, cron: Cron, zone: tzinfo, job: CronJob | None = None) -> None:
        super().__init__()
        self.cron = cron
        self.zone = zone
        self.job = job

    def compose(self) -> ComposeResult:
        job = self.job
        with Vertical(classes="frame"):
            yield Label(("Edit cron job " + (job.name or str(job.id)) if job else
                         "New cron job") + " — ctrl+s keeps it, escape cancels", markup=False)
            with Horizontal(classes="fields"):
                with Vertical(classes="field"):
                    yield Label("name")
                    yield Input(job.name if job else "", id="job-name",
                                disabled=job is not None)
                with Vertical(classes="field"):
                    yield Label("schedule")
                    yield Input(job.schedule if job else "", id="job-schedule",
                                placeholder="*/5 * * * *")
            with Horizontal(classes="fields"):
                with Vertical(classes="field"):
                    yield Label("database (empty: pg_cron's own)")
                    yield Input(job.database if job else "", id="job-database")
                with Vertical(classes="field"):
                    yield Label("user (empty: yours)")
                    yield Input(job.username if job else "", id="job-user")
            yield Static("", id="job-said", markup=False)
            yield Label("", id="job-error", markup=False)
            yield SqlEditor(id="job-command")

    def on_mount(self) -> None:
        self.query_one(SqlEditor).text = self.job.command if self.job else ""
        self.query_one("#job-schedule" if self.job else "#job-name", Input).focus()
        self.said(self.job.schedule if self.job else "")

    @on(Input.Changed, "#job-schedule")
    def schedule_changed(self, event: Input.Changed) -> None:
        self.said(event.value)

    def said(self, schedule: str) -> None:
        """The schedule in words and its next runs, in the zone pg_cron schedules in."""
        text = ""
        if schedule.strip():
            upcoming = next_runs(schedule, self.zone)
            text = in_words(schedule) + "\n" + (
                f"next ({self.zone}): " + ", ".join(f"{at:%a %Y-%m-%d %H:%M}" for at in upcoming)
                if upcoming else "no next run to show (pg_cron checks it on ctrl+s)")
        self.query_one("#job-said", Static).update(text)

    def value(self, widget_id: str) -> str:
        return self.query_one(widget_id, Input).value.strip()

    @work(group="keep", exclusive=True, exit_on_error=False)
    async def action_keep(self) -> None:
        command = self.query_one(TextArea).text
        error = self.query_one("#job-error", Label)
        if not command.strip():
            error.update("the job needs a command")
            return
        database, user = self.value("#job-database") or None, self.value("#job-user") or None
        try:
            if self.job is None:
                kept = await self.cron.add(self.value("#job-name"), self.value("#job-schedule"),
                                           command, database=database, username=user)
            else:
                kept = await self.cron.update(str(self.job.id),
                                              schedule=self.value("#job-schedule"),
                                              command=command, database=database,
                                              username=user)
        except CrestfallError as refused:
            error.update(refused.message)
            return
        self.dismiss(kept)
