"""The Cron section (F6) driven by keys (Pilot) against the real Postgres with pg_cron: a
job made in the form (a bad schedule refused in place, nothing typed lost), run now and
shown in its history as manual, a long run cancelled with k, disabled, edited, dry-run,
removed; runs across jobs; the clean-up job installed from the Retention tab."""

from __future__ import annotations

import uuid

import psycopg
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.modals import ConfirmModal, PromptModal, TextModal
from crestfall_tui.screens import CronScreen
from crestfall_tui.screens.cron.job_form import JobForm
from crestfall_tui.screens.cron.jobs_pane import JobsPane
from crestfall_tui.services.cron_retention import CLEANUP_JOB
from tests.drivers import until
from tests.helpers import StackUnderTest

Db = psycopg.Connection[tuple[object, ...]]


def job_row(db: Db, name: str) -> tuple[object, ...] | None:
    return db.execute("select jobid, schedule, command, active from cron.job "
                      "where jobname = %s", (name,)).fetchone()


async def open_cron(pilot: Pilot[None], app: CrestfallApp) -> JobsPane:
    """F6: the Cron section, its Jobs tab once read."""
    await pilot.press("f6")
    await until(pilot, lambda: isinstance(app.screen, CronScreen))
    jobs = app.screen.query_one(JobsPane)
    await until(pilot, lambda: "pg_cron 1.4" in str(jobs.query_one("#cron-summary").render()))
    return jobs


def cells(table: DataTable[object]) -> str:
    return "\n".join(" ".join(str(c) for c in table.get_row_at(row))
                     for row in range(table.row_count))


async def test_make_run_disable_edit_dry_run_and_remove_a_job_by_keys(
        stack: StackUnderTest, db: Db) -> None:
    name = f"keys-{uuid.uuid4().hex[:6]}"
    app = CrestfallApp(stack.stack, stack.runtime)
    try:
        async with app.run_test(size=(160, 44)) as pilot:
            jobs = await open_cron(pilot, app)

            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, JobForm))
            form = app.screen
            await pilot.press(*name)
            form.query_one("#job-schedule", Input).value = "0 25 * * *"
            form.query_one(TextArea).text = "select 'made by keys'"
            await pilot.press("ctrl+s")
            error = form.query_one("#job-error", Label)
            await until(pilot, lambda: "invalid schedule" in str(error.render()))
            assert app.screen is form and job_row(db, name) is None  # kept open, nothing lost
            form.query_one("#job-schedule", Input).value = "*/5 * * * *"
            await until(pilot, lambda: "Every 5 minutes" in str(
                form.query_one("#job-said").render()))
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, CronScreen))
            await until(pilot, lambda: jobs.job is not None and jobs.job.name == name)
            assert job_row(db, name) == (jobs.job.id, "*/5 * * * *", "select 'made by keys'",
                                         True)

            await pilot.press("t")  # run now
            runs = jobs.query_one("#cron-job-runs", DataTable)
            await until(pilot, lambda: "succeeded (manual)" in cells(runs))
            assert db.execute("select status, return_message from crestfall.cron_runs "
                              "where jobid = %s", (jobs.job.id,)).fetchall() == [
                ("succeeded", "SELECT 1")]

            await pilot.press("space")
            await until(pilot, lambda: job_row(db, name) is not None
                        and job_row(db, name)[3] is False)  # type: ignore[index]

            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, JobForm))
            edit = app.screen
            assert edit.query_one("#job-schedule", Input).value == "*/5 * * * *"
            edit.query_one("#job-schedule", Input).value = "0 3 * * 1-5"
            edit.query_one(TextArea).text = "select pg_sleep(60)"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, CronScreen))
            await until(pilot, lambda: job_row(db, name) is not None
                        and job_row(db, name)[1] == "0 3 * * 1-5")  # type: ignore[index]

            await pilot.press("D")
            await until(pilot, lambda: isinstance(app.screen, TextModal))
            assert "Result" in app.screen.query_one(TextArea).text
            await pilot.press("escape")

            await until(pilot, lambda: jobs.job is not None and "sleep" in jobs.job.command)
            await pilot.press("t")  # a long run, then k cancels it on the server
            await until(pilot, lambda: db.execute(
                "select count(*) from pg_stat_activity where query = 'select pg_sleep(60)' "
                "and state = 'active'").fetchone() == (1,))
            await pilot.press("k")
            await until(pilot, lambda: db.execute(
                "select status, return_message from crestfall.cron_runs where jobid = %s "
                "order by runid desc limit 1", (jobs.job.id,)).fetchone()  # type: ignore[union-attr]
                == ("failed", "cancelled from the studio"))
            await until(pilot, lambda: db.execute(
                "select count(*) from pg_stat_activity where query = 'select pg_sleep(60)' "
                "and state = 'active'").fetchone() == (0,))

            await pilot.press("2")  # every job's runs
            across = app.screen.query_one("#cron-runs", DataTable)
            await until(pilot, lambda: name in cells(across))
            await pilot.press("f")
            await until(pilot, lambda: "succeeded" not in cells(across)
                        and "cancelled from the studio" in cells(across))

            await pilot.press("1", "d")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("y")
            await until(pilot, lambda: job_row(db, name) is None)
    finally:
        db.execute("select cron.unschedule(jobid) from cron.job where jobname = %s", (name,))
        db.execute("delete from crestfall.cron_runs where command in "
                   "('select ''made by keys''', 'select pg_sleep(60)')")


async def test_the_retention_tab_installs_the_cleanup_job(stack: StackUnderTest,
                                                          db: Db) -> None:
    app = CrestfallApp(stack.stack, stack.runtime)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("f6")
            await until(pilot, lambda: isinstance(app.screen, CronScreen))
            await pilot.press("3")
            size = app.screen.query_one("#cron-size")
            await until(pilot, lambda: "MiB" in str(size.render()))
            settings = app.screen.query_one("#cron-settings", DataTable)
            assert "cron.database_name" in cells(settings)
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, PromptModal))
            app.screen.query_one(Input).value = ""
            await pilot.press("1", "4", "enter")
            await until(pilot, lambda: job_row(db, CLEANUP_JOB) is not None)
            assert "interval '14 days'" in str(job_row(db, CLEANUP_JOB)[2])  # type: ignore[index]
            await until(pilot, lambda: "clean-up job: 17 3 * * *" in str(size.render()))
    finally:
        db.execute("select cron.unschedule(jobid) from cron.job where jobname = %s",
                   (CLEANUP_JOB,))


async def test_names_and_commands_holding_markup_show_as_written(stack: StackUnderTest,
                                                                 db: Db) -> None:
    """A job whose name and command hold `[/x]` and `[b]` (Rich markup to a DataTable) is
    listed, detailed and run as written: nothing fails to render, no text is lost."""
    name = f"[b]bold[/b] [/x] {uuid.uuid4().hex[:6]}"
    db.execute("select cron.schedule(%s, '0 4 * * *', 'select ''[/red] not markup''')",
               (name,))
    app = CrestfallApp(stack.stack, stack.runtime)
    try:
        async with app.run_test(size=(200, 44)) as pilot:
            jobs = await open_cron(pilot, app)
            await until(pilot, lambda: any(job.name == name for job in jobs.jobs))
            table = jobs.query_one("#cron-jobs", DataTable)
            table.move_cursor(row=[job.name for job in jobs.jobs].index(name))
            await pilot.press("t")
            runs = jobs.query_one("#cron-job-runs", DataTable)
            await until(pilot, lambda: "succeeded (manual)" in cells(runs))
            shown = app.export_screenshot().replace("&#160;", " ")
            assert "[b]bold[/b] [/x]" in shown.replace("&#91;", "[").replace("&#93;", "]")
    finally:
        db.execute("select cron.unschedule(jobid) from cron.job where jobname = %s", (name,))
        db.execute("delete from crestfall.cron_runs where command = "
                   "'select ''[/red] not markup'''")
