"""pg_cron through the Cron service and its headless twin, against the real Postgres with
pg_cron's background workers: jobs added, changed and removed through pg_cron's own
functions; next runs; history paged by key and pruned in batches; a job that really runs."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from crestfall_tui.services.cron import Cron, CronError, next_runs
from tests.helpers import StackUnderTest, eventually

Db = psycopg.Connection[tuple[object, ...]]


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
    """2,500 runs of one job: pages of 100 newest first without a gap or a repeat, failed
    ones alone, then everything older than 30 days pruned 1,000 at a time."""
    cron = Cron(stack.runtime.postgres(read_only=False))
    name = f"history-{uuid.uuid4().hex[:6]}"
    job = await cron.add(name, "0 4 * * *", "select 1")
    try:
        db.execute("insert into cron.job_run_details (jobid, job_pid, database, username, "
                   "command, status, return_message, start_time, end_time) select %s, 1, "
                   "'postgres', 'postgres', 'select 1', case when g %% 10 = 0 then 'failed' "
                   "else 'succeeded' end, 'SELECT 1', now() - g * interval '1 hour', "
                   "now() - g * interval '1 hour' + interval '2 seconds' "
                   "from generate_series(1, 2500) g", (job.id,))
        seen, before = [], None
        while page := await cron.history(name, before=before):
            assert len(page) <= 100
            seen += page
            before = page[-1].id
        assert len(seen) == 2500 and len({r.id for r in seen}) == 2500
        assert [r.id for r in seen] == sorted((r.id for r in seen), reverse=True)
        failed = await cron.history(name, failed=True, limit=1000)
        assert len(failed) == 250 and {r.status for r in failed} == {"failed"}
        assert len(await cron.history(name, since=timedelta(hours=24), limit=1000)) == 23
        counted = (await cron.job(name))
        assert (counted.runs_24h, counted.failures_24h) == (23, 2)
        steps: list[int] = []
        deleted = await cron.prune(timedelta(days=30), batch=1000, progress=steps.append)
        assert deleted == 2500 - 30 * 24 and steps[-1] == deleted and len(steps) >= 2
        assert len(await cron.history(name, limit=1000)) == 30 * 24
    finally:
        await cron.remove(str(job.id))
        db.execute("delete from cron.job_run_details where jobid = %s", (job.id,))
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
        [latest] = await cron.history(str(job.id), limit=1)
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
        if await cron.missing_index():
            assert "cron.job_run_details (jobid, runid)" in await cron.create_index()
        assert await cron.missing_index() is None
    finally:
        for job in (flaky, stuck, fresh):
            await cron.remove(str(job.id))
            db.execute("delete from cron.job_run_details where jobid = %s", (job.id,))
        await cron.close()
