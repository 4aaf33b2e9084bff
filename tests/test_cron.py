"""pg_cron through the Cron service and its headless twin, against the real Postgres with
pg_cron's background workers: jobs added, changed and removed through pg_cron's own
functions; next runs; history paged by key and pruned in batches; a job that really runs."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from crestfall_tui.services import cron_manual, cron_retention
from crestfall_tui.services.cron import Cron, CronError, next_runs
from crestfall_tui.services.cron_schedule import in_words, shortest_gap
from tests.helpers import StackUnderTest, eventually

Db = psycopg.Connection[tuple[object, ...]]


def job_user(db: Db, schema: str, role: str, table: str, may: str) -> tuple[str, str]:
    """A login role for a job to run as, allowed `may` on `schema.table` (made here); the
    role and the test's database."""
    db.execute(f"create role {role} login")
    db.execute(f"create table {schema}.{table}")
    db.execute(f"grant usage on schema {schema} to {role}")
    db.execute(f"grant {may} on {schema}.{table.split()[0]} to {role}")
    return role, str(db.execute("select current_database()").fetchone()[0])  # type: ignore[index]


def test_next_runs_in_two_zones() -> None:
    start = datetime(2026, 11, 27, 23, 58, tzinfo=UTC)  # a Friday
    assert next_runs("*/5 * * * *", UTC, start) == [
        datetime(2026, 11, 28, 0, 0, tzinfo=UTC), datetime(2026, 11, 28, 0, 5, tzinfo=UTC),
        datetime(2026, 11, 28, 0, 10, tzinfo=UTC)]
    assert [at.isoformat() for at in next_runs("0 3 * * 1-5", UTC, start)] == [
        "2026-11-30T03:00:00+00:00", "2026-12-01T03:00:00+00:00", "2026-12-02T03:00:00+00:00"]
    berlin = next_runs("@daily", ZoneInfo("Europe/Berlin"), start, 2)
    assert [at.isoformat() for at in berlin] == ["2026-11-29T00:00:00+01:00",
                                                 "2026-11-30T00:00:00+01:00"]
    assert next_runs("not a schedule", UTC, start) == []


async def test_jobs_are_added_changed_and_removed_by_pg_crons_functions(
        stack: StackUnderTest, db: Db) -> None:
    cron = Cron(stack.runtime.postgres(read_only=False))
    name = f"job 'quoted' {uuid.uuid4().hex[:6]}; drop table x"
    try:
        job = await cron.add(name, "0 3 * * 1-5", "select 'it''s fine'")
        assert (job.name, job.schedule, job.active, job.database) == (
            name, "0 3 * * 1-5", True, "postgres")
        assert db.execute("select command from cron.job where jobid = %s",
                          (job.id,)).fetchone() == ("select 'it''s fine'",)
        assert len(job.next_runs()) == 3 and job.last_status is None
        with pytest.raises(CronError, match="exists already"):
            await cron.add(name, "* * * * *", "select 2")
        with pytest.raises(CronError, match="invalid schedule"):
            await cron.add(f"bad {name}", "every day", "select 1")
        with pytest.raises(CronError, match="need pg_cron 1.5"):
            await cron.add(f"secs {name}", "10 seconds", "select 1")
        assert not (await cron.set_active(name, False)).active
        assert (await cron.set_active(str(job.id), True)).active
        assert name in [j.name for j in await cron.jobs()]
        assert await cron.sees_every_job()
        await cron.remove(name)
        with pytest.raises(CronError, match="no cron job"):
            await cron.job(name)
    finally:
        db.execute("select cron.unschedule(jobid) from cron.job where jobname like %s",
                   (f"%{name[-20:]}",))
        await cron.close()


async def test_history_pages_by_key_and_prunes_in_batches(stack: StackUnderTest,
                                                          db: Db) -> None:
    """2,500 runs of one job and 8 manual runs between them: pages of 100 newest first
    without a gap or a repeat, failed ones alone, then everything older than 30 days pruned
    1,000 at a time."""
    cron = Cron(stack.runtime.postgres(read_only=False))
    name = f"history-{uuid.uuid4().hex[:6]}"
    job = await cron.add(name, "0 4 * * *", "select 1")
    try:
        db.execute("insert into cron.job_run_details (jobid, job_pid, database, username, "
                   "command, status, return_message, start_time, end_time) select %s, 1, "
                   "'postgres', 'postgres', 'select 1', case when g %% 10 = 0 then 'failed' "
                   "else 'succeeded' end, 'SELECT 1', now() - g * interval '1 hour', "
                   "now() - g * interval '1 hour' + interval '2 seconds' "
                   "from generate_series(2500, 1, -1) g", (job.id,))  # oldest first, as pg_cron
        # The studio's manual runs, at half past the hour between pg_cron's.
        db.execute("insert into crestfall.cron_runs (jobid, command, database, username, "
                   "status, start_time, end_time) select %s, 'select 1', 'postgres', "
                   "'postgres', 'succeeded', now() - g * interval '1 hour' - interval "
                   "'30 minutes', now() - g * interval '1 hour' - interval '29 minutes' "
                   "from generate_series(0, 300, 50) g union all select %s, 'select 1', "
                   "'postgres', 'postgres', 'succeeded', now() - interval '40 days', "
                   "now() - interval '40 days'", (job.id, job.id))
        seen, after = [], None
        while True:
            page = await cron.history(name, after=after)
            assert len([r for r in page.runs if not r.manual]) <= 100
            seen += page.runs
            if (after := page.after) is None:
                break
        pg_cron_runs = [r for r in seen if not r.manual]
        assert len(pg_cron_runs) == 2500 and len({r.id for r in pg_cron_runs}) == 2500
        assert len([r for r in seen if r.manual]) == 8  # each once, none lost at a page edge
        assert [r.start for r in seen] == sorted((r.start for r in seen), reverse=True)
        failed = (await cron.history(name, failed=True, limit=1000)).runs
        assert len(failed) == 250 and {r.status for r in failed} == {"failed"}
        assert len((await cron.history(name, since=timedelta(hours=24), limit=1000)).runs) \
            == 23 + 1
        counted = (await cron.job(name))
        assert (counted.runs_24h, counted.failures_24h) == (23, 2)
        steps: list[int] = []
        deleted = await cron_retention.prune(cron, timedelta(days=30), batch=1000,
                                             progress=steps.append)
        assert deleted == 2500 - 30 * 24 + 1 and steps[-1] == deleted and len(steps) >= 2
        assert db.execute("select count(*) from crestfall.cron_runs where jobid = %s",
                          (job.id,)).fetchone() == (7,)  # the manual run of 40 days ago went
        assert len([r for r in (await cron.history(name, limit=1000)).runs
                    if not r.manual]) == 30 * 24
    finally:
        await cron.remove(str(job.id))
        db.execute("delete from cron.job_run_details where jobid = %s", (job.id,))
        db.execute("delete from crestfall.cron_runs where jobid = %s", (job.id,))
        await cron.close()


async def test_a_job_runs_on_its_schedule_and_shows_in_history(stack: StackUnderTest,
                                                              db: Db) -> None:
    """Every minute: pg_cron's background worker runs it within the minute, and its run
    is in the history as succeeded."""
    table = f"cron_ran_{uuid.uuid4().hex[:6]}"
    db.execute(f"create table public.{table} (at timestamptz default now())")
    cron = Cron(stack.runtime.postgres(read_only=False))
    job = await cron.add(f"every minute {table}", "* * * * *",
                         f"insert into public.{table} default values")
    try:
        assert eventually(lambda: db.execute(
            "select count(*) from cron.job_run_details where jobid = %s and status = "
            "'succeeded'", (job.id,)).fetchone() != (0,), 75)
        [latest] = (await cron.history(str(job.id), limit=1)).runs
        assert latest.return_message == "INSERT 0 1" and latest.duration is not None
        assert db.execute(f"select count(*) from public.{table}").fetchone() != (0,)
    finally:
        await cron.remove(str(job.id))
        db.execute(f"drop table public.{table}")
        await cron.close()


def test_the_headless_twin(stack: StackUnderTest) -> None:
    name = f"twin-{uuid.uuid4().hex[:6]}"
    added = stack.cli("cron", "add", name, "*/5 * * * *", "-c", "select now()", "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["schedule"] == "*/5 * * * *"
    listed = json.loads(stack.cli("cron", "list", "--json").stdout)
    [mine] = [job for job in listed if job["name"] == name]
    assert len(mine["next_runs"]) == 3 and mine["last_run"] is None
    assert "disabled" in stack.cli("cron", "disable", name).stdout
    shown = json.loads(stack.cli("cron", "show", name, "--json").stdout)
    assert shown["active"] is False and shown["next_runs"] == []
    assert json.loads(stack.cli("cron", "history", name, "--json").stdout) == []
    bad = stack.cli("cron", "add", f"{name}-bad", "61 * * * *", "-c", "select 1")
    assert bad.returncode == 1 and "invalid schedule" in bad.stderr
    missing = stack.cli("cron", "remove", "no-such-job-here")
    assert missing.returncode == 1 and missing.stderr.strip() == (
        "crestfall-tui: Cron: no cron job 'no-such-job-here'")
    assert stack.cli("cron", "prune", "--older-than", "soon").returncode == 1
    assert stack.cli("cron", "remove", name).returncode == 0


async def test_schedule_health_settings_and_the_history_index(stack: StackUnderTest,
                                                              db: Db) -> None:
    """A job due every 20 minutes that ran 3 times since its first run 2 hours ago is
    flagged missed and (all its runs failed) always failing; a run left `running` for hours
    is stuck; a new job has no run yet. The settings come from pg_settings; the history
    index is offered, then made."""
    cron = Cron(stack.runtime.postgres(read_only=False))
    tag = uuid.uuid4().hex[:6]
    flaky = await cron.add(f"flaky-{tag}", "*/20 * * * *", "select 1/0")
    stuck = await cron.add(f"stuck-{tag}", "0 2 * * *", "select pg_sleep(1)")
    fresh = await cron.add(f"fresh-{tag}", "0 5 * * *", "select 1")
    try:
        db.execute("insert into cron.job_run_details (jobid, status, return_message, "
                   "start_time, end_time) select %s, 'failed', 'division by zero', "
                   "now() - g * interval '40 minutes', now() - g * interval '40 minutes' "
                   "from generate_series(3, 1, -1) g", (flaky.id,))  # oldest first, as pg_cron
        db.execute("insert into cron.job_run_details (jobid, status, start_time) values "
                   "(%s, 'running', now() - interval '3 hours')", (stuck.id,))
        flags = (await cron.job(str(flaky.id))).health()
        assert any(f.startswith("missed: ") for f in flags), flags  # ~6 due since the first
        assert "always failing (every run in 24 h failed)" in flags
        assert any(f.startswith("stuck: running") for f in (await cron.job(str(stuck.id)))
                   .health())
        assert (await cron.job(str(fresh.id))).health() == ["no run recorded yet"]
        assert ("cron.database_name", "postgres") in [(n, v) for n, v, _ in
                                                       await cron.settings()]
        await cron.create_indexes()
        assert await cron.missing_indexes() == []
    finally:
        for job in (flaky, stuck, fresh):
            await cron.remove(str(job.id))
            db.execute("delete from cron.job_run_details where jobid = %s", (job.id,))
        await cron.close()


def test_firings_counted_as_croniter_steps_them() -> None:
    """The fast count of a schedule's firings in 24 hours agrees with stepping croniter one
    firing at a time, in three zones, on ordinary days and across both clock changes of
    Berlin and New York."""
    from crestfall_tui.services.cron_schedule import _fires_by_stepping, fires_between

    ends = [datetime(2026, month, day, hour, minute, tzinfo=UTC) for month, day, hour, minute
            in ((1, 1, 0, 0), (2, 28, 23, 59), (3, 1, 0, 30), (3, 8, 12, 0), (3, 29, 1, 30),
                (3, 29, 13, 7), (6, 15, 3, 0), (10, 25, 1, 0), (10, 25, 12, 0),
                (11, 1, 6, 30), (11, 2, 5, 0), (11, 27, 23, 58))]
    for end in ends:
        for schedule in ("* * * * *", "*/5 * * * *", "30 2 * * *", "@hourly",
                         "0 3 * * 1-5", "0 0 1,15 * 0", "0 0 29 2 *"):
            for zone in (UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")):
                start = end - timedelta(hours=24)
                assert fires_between(schedule, start, end, zone) == _fires_by_stepping(
                    schedule, start, end, zone), (schedule, zone, end)


def test_schedules_in_words_and_their_gaps() -> None:
    assert in_words("*/5 * * * *") == "Every 5 minutes"
    assert in_words("0 3 * * 1-5") == "At 03:00, Monday through Friday"
    assert in_words("@daily") == "At 00:00"
    assert in_words("30 seconds") == "Every 30 seconds"
    assert in_words("not a schedule") == "not a schedule"
    assert shortest_gap("*/5 * * * *") == timedelta(minutes=5)
    assert shortest_gap("@hourly") == timedelta(hours=1)
    assert shortest_gap("@reboot") is None


async def test_edit_checks_the_schedule_with_pg_cron_and_leaves_nothing_behind(
        stack: StackUnderTest, db: Db) -> None:
    cron = Cron(stack.runtime.postgres(read_only=False))
    name = f"edit-{uuid.uuid4().hex[:6]}"
    job = await cron.add(name, "0 3 * * *", "select 1")
    try:
        with pytest.raises(CronError, match="invalid schedule"):
            await cron.update(name, schedule="0 25 * * *", command="select 2")
        assert (await cron.job(name)).command == "select 1"  # refused whole
        changed = await cron.update(name, schedule="*/10 * * * *", command="select 2")
        assert (changed.id, changed.schedule, changed.command) == (
            job.id, "*/10 * * * *", "select 2")
        await cron.check_schedule("@hourly")
        assert db.execute("select count(*) from cron.job where jobname = "
                          "'crestfall schedule check'").fetchone() == (0,)
    finally:
        await cron.remove(name)
        await cron.close()


async def test_run_now_runs_as_the_jobs_user_in_its_database_and_is_logged(
        stack: StackUnderTest, db: Db, schema: str) -> None:
    """The job's user, not the studio's login, runs the command in the job's database: the
    row it writes says who and where; the run is in the studio's log and in the job's
    history, marked manual; a failing command is a failed run with the server's reason."""
    tag = uuid.uuid4().hex[:6]
    role, database = job_user(db, schema, f"cron_runner_{tag}",
                              "probe (who text, at_db text)", "insert")
    cron = Cron(stack.runtime.postgres(read_only=False))
    job = await cron.add(f"probe-{tag}", "0 4 * * *",
                         f"insert into {schema}.probe values (current_user, "
                         "current_database()); select 'two statements'",
                         database=database, username=role)
    bad = await cron.add(f"bad-{tag}", "0 4 * * *", f"delete from {schema}.probe",
                         database=database, username=role)
    try:
        seen: list[int] = []
        run = await cron_manual.run_now(cron, job.name, started=lambda r: seen.append(r.id))
        assert (run.status, run.return_message, run.manual) == ("succeeded", "SELECT 1", True)
        assert seen == [run.id] and run.duration is not None
        assert db.execute(f"select who, at_db from {schema}.probe").fetchall() == [
            (role, database)]
        [shown] = (await cron.history(job.name)).runs
        assert (shown.id, shown.manual, shown.status) == (run.id, True, "succeeded")
        failed = await cron_manual.run_now(cron, bad.name)
        assert failed.status == "failed"
        assert failed.return_message == "permission denied for table probe"
        assert db.execute("select status, run_by from crestfall.cron_runs where runid = %s",
                          (failed.id,)).fetchone() == ("failed", "postgres")
    finally:
        for each in (job, bad):
            await cron.remove(str(each.id))
            db.execute("delete from crestfall.cron_runs where jobid = %s", (each.id,))
        await cron.close()
        db.execute(f"drop table {schema}.probe")
        db.execute(f"drop owned by {role}")
        db.execute(f"drop role {role}")


async def test_run_now_is_cancelled_on_the_server_and_recorded(stack: StackUnderTest,
                                                                 db: Db) -> None:
    """A long run: cancelling the waiting task cancels the statement (its backend stops)
    and records the run failed; a second one is cancelled by its pid from another session,
    as the Runs tab's k does."""
    cron = Cron(stack.runtime.postgres(read_only=False))
    job = await cron.add(f"slow-{uuid.uuid4().hex[:6]}", "0 4 * * *", "select pg_sleep(60)")
    try:
        for how in ("task", "pid"):
            started: list[object] = []
            task = asyncio.create_task(cron_manual.run_now(cron, job.name,
                                                           started=started.append))
            deadline = asyncio.get_running_loop().time() + 10
            while not (started and db.execute(
                    "select count(*) from pg_stat_activity where query = "
                    "'select pg_sleep(60)' and state = 'active'").fetchone() == (1,)):
                assert asyncio.get_running_loop().time() < deadline, "the run never started"
                await asyncio.sleep(0.05)  # the run's task needs the loop meanwhile
            [run] = started
            if how == "task":
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                message = "cancelled from the studio"
            else:
                other = Cron(stack.runtime.postgres(read_only=False))
                [going] = [r for r in await other.running() if r.manual and r.job_id == job.id]
                assert await other.cancel(going)
                await other.close()
                assert (await task).status == "failed"
                message = "canceling statement due to user request"
            assert db.execute("select status, return_message, end_time is not null from "
                              "crestfall.cron_runs where runid = %s",
                              (run.id,)).fetchone() == ("failed", message, True)  # type: ignore[attr-defined]
            assert db.execute("select count(*) from pg_stat_activity where query = "
                              "'select pg_sleep(60)' and state = 'active'").fetchone() == (0,)
    finally:
        await cron.remove(str(job.id))
        db.execute("delete from crestfall.cron_runs where jobid = %s", (job.id,))
        await cron.close()


async def test_dry_run_plans_as_the_job_user_and_changes_nothing(
        stack: StackUnderTest, db: Db, schema: str) -> None:
    tag = uuid.uuid4().hex[:6]
    role, database = job_user(db, schema, f"cron_dry_{tag}", "kept (n int)", "select, delete")
    db.execute(f"insert into {schema}.kept values (1)")
    cron = Cron(stack.runtime.postgres(read_only=False))
    job = await cron.add(f"dry-{tag}", "0 4 * * *",
                         f"delete from {schema}.kept; vacuum {schema}.kept; "
                         f"select * from {schema}.missing; update {schema}.kept set n = 2",
                         database=database, username=role)
    try:
        planned = await cron_manual.dry_run(cron, job)
        assert [p.text.split()[0] for p in planned] == ["delete", "vacuum", "select", "update"]
        assert planned[0].plan is not None and "Delete on kept" in planned[0].plan
        assert planned[1].plan is None and planned[1].problem is None  # runs as written
        assert planned[2].problem == f'relation "{schema}.missing" does not exist'
        assert planned[3].problem == "permission denied for table kept"  # as the job's user
        assert db.execute(f"select n from {schema}.kept").fetchall() == [(1,)]
    finally:
        await cron.remove(str(job.id))
        await cron.close()
        db.execute(f"drop owned by {role}")
        db.execute(f"drop role {role}")


async def test_overlapping_and_late_runs_are_flagged(stack: StackUnderTest, db: Db) -> None:
    """Every 5 minutes, but one run took 7 minutes and the next started 2 minutes late."""
    cron = Cron(stack.runtime.postgres(read_only=False))
    job = await cron.add(f"overlap-{uuid.uuid4().hex[:6]}", "*/5 * * * *", "select 1")
    try:
        db.execute("insert into cron.job_run_details (jobid, status, return_message, "
                   "start_time, end_time) values "
                   "(%s, 'succeeded', 'SELECT 1', date_trunc('minute', now()) - interval "
                   "'20 minutes', date_trunc('minute', now()) - interval '13 minutes'), "
                   "(%s, 'succeeded', 'SELECT 1', date_trunc('minute', now()) - interval "
                   "'13 minutes' + interval '40 seconds', date_trunc('minute', now()) - "
                   "interval '12 minutes')", (job.id, job.id))
        flags = (await cron.job(job.name)).health()
        assert "overlapping: a run took 7 min, longer than the 5 min between runs (pg_cron " \
               "queues the next)" in flags
        assert any(flag.startswith("late: 1 run(s) in 24 h") for flag in flags), flags
    finally:
        await cron.remove(str(job.id))
        db.execute("delete from cron.job_run_details where jobid = %s", (job.id,))
        await cron.close()


async def test_a_million_runs_page_by_key_and_prune_in_batches(stack: StackUnderTest,
                                                               db: Db) -> None:
    """1,000,000 runs of one job (one every 10 s, 116 days): pages deep in the history read
    by the index, then the runs older than 30 days pruned 200,000 at a time, each batch its
    own transaction, with progress."""
    cron = Cron(stack.runtime.postgres(read_only=False))
    job = await cron.add(f"million-{uuid.uuid4().hex[:6]}", "* * * * *", "select 1")
    await cron.set_active(job.name, False)
    try:
        await cron.create_indexes()
        db.execute("insert into cron.job_run_details (jobid, status, return_message, "
                   "start_time, end_time) select %s, 'succeeded', 'SELECT 1', "
                   "now() - g * interval '10 seconds', now() - g * interval '10 seconds' "
                   "from generate_series(1000000, 1, -1) g", (job.id,))
        db.execute("analyze cron.job_run_details")
        page = await cron.history(job.name)
        for _ in range(20):
            assert page.after is not None
            last = page.runs[-1].id
            page = await cron.history(job.name, after=page.after)
            assert page.runs[0].id == last - 1 and len(page.runs) == 100
        # A job with few runs among the million is read by the offered index, not a scan.
        plan = "\n".join(str(r[0]) for r in db.execute(
            "explain select * from cron.job_run_details where jobid = %s "
            "order by runid desc limit 100", (job.id + 1,)).fetchall())
        assert "crestfall_cron_runs_job_idx" in plan, plan
        size = await cron_retention.history_size(cron)
        assert size.rows >= 1_000_000 and size.bytes > 50 * 2**20
        steps: list[int] = []
        deleted = await cron_retention.prune(cron, timedelta(days=30), batch=200_000,
                                             progress=steps.append)
        assert deleted == 1_000_000 - 30 * 8640 + 1 or abs(deleted - 740_800) < 10
        # Four batches of pg_cron's runs, then one of the studio's run log (none of its).
        assert steps == sorted(steps) and len(steps) == 5 and steps[-1] == deleted
    finally:
        await cron.remove(str(job.id))
        db.execute("delete from cron.job_run_details where jobid = %s", (job.id,))
        await cron.close()


async def test_the_cleanup_job_is_installed_and_changed(stack: StackUnderTest) -> None:
    cron = Cron(stack.runtime.postgres(read_only=False))
    try:
        job = await cron_retention.install_cleanup(cron, 30)
        assert (job.name, job.schedule) == (cron_retention.CLEANUP_JOB, "17 3 * * *")
        assert job.command == ("delete from cron.job_run_details where coalesce(end_time, "
                               "start_time) < now() - interval '30 days'; delete from "
                               "crestfall.cron_runs where coalesce(end_time, start_time) < "
                               "now() - interval '30 days'")
        again = await cron_retention.install_cleanup(cron, 7)
        assert again.id == job.id and "interval '7 days'" in again.command
        assert (await cron_retention.history_size(cron)).cleanup == await cron.job(job.name)
        with pytest.raises(CronError, match="at least one day"):
            await cron_retention.install_cleanup(cron, 0)
    finally:
        await cron.remove(cron_retention.CLEANUP_JOB)
        await cron.close()


def test_the_twin_runs_a_job_now_and_dry_runs_it(stack: StackUnderTest) -> None:
    name = f"twin-run-{uuid.uuid4().hex[:6]}"
    assert stack.cli("cron", "add", name, "0 4 * * *", "-c", "select 1").returncode == 0
    try:
        ran = stack.cli("cron", "run", name, "--json")
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout)["status"] == "succeeded"
        assert stack.cli("cron", "edit", name, "-c", "select 1/0").returncode == 0
        failed = stack.cli("cron", "run", name)
        assert failed.returncode == 1 and "failed" in failed.stdout
        assert "division by zero" in failed.stdout
        history = json.loads(stack.cli("cron", "history", name, "--json").stdout)
        assert [(r["manual"], r["status"]) for r in history] == [
            (True, "failed"), (True, "succeeded")]
        dry = stack.cli("cron", "dry-run", name)  # planning folds 1/0: refused already
        assert dry.returncode == 1 and "! division by zero" in dry.stdout
        assert stack.cli("cron", "edit", name, "-c", "select 2").returncode == 0
        dry = stack.cli("cron", "dry-run", name)
        assert dry.returncode == 0 and "Result" in dry.stdout
        edit = stack.cli("cron", "edit", name, "--schedule", "0 24 * * *")
        assert edit.returncode == 1 and "invalid schedule" in edit.stderr
        shown = json.loads(stack.cli("cron", "show", name, "--json").stdout)
        assert shown["schedule_in_words"] == "At 04:00"
        retention = json.loads(stack.cli("cron", "retention", "--json").stdout)
        assert retention["bytes"] > 0 and "rows_per_day" in retention
    finally:
        stack.cli("cron", "remove", name)


def test_ctrl_c_cancels_the_twins_run_on_the_server(stack: StackUnderTest, db: Db) -> None:
    """`cron run` of a long job, then SIGINT: the statement stops on the server, the run is
    recorded failed, exit 130."""
    import signal
    import subprocess

    from tests.helpers import BINARY

    name = f"twin-slow-{uuid.uuid4().hex[:6]}"
    command = "select pg_sleep(61)"
    assert stack.cli("cron", "add", name, "0 4 * * *", "-c", command).returncode == 0

    def active() -> bool:
        return db.execute("select count(*) from pg_stat_activity where query = %s and "
                          "state = 'active'", (command,)).fetchone() != (0,)

    try:
        process = subprocess.Popen(
            [str(BINARY), "cron", "run", name, "--stack", "local", "--config",
             str(stack.config_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        assert eventually(active, 20)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130
        assert eventually(lambda: not active(), 5)
        assert db.execute("select r.status, r.return_message from crestfall.cron_runs r "
                          "join cron.job j using (jobid) where j.jobname = %s",
                          (name,)).fetchall() == [("failed", "cancelled from the studio")]
    finally:
        stack.cli("cron", "remove", name)
