"""pg_cron's jobs and their runs, read and changed through pg_cron's own functions: jobs
with their next runs (in the zone pg_cron schedules in), their last run and their last 24
hours; history paged newest first by key, never counted whole, with the studio's own manual
runs beside pg_cron's; running jobs and a way to cancel one. No Textual here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.services.calls import Calls, all_of
from crestfall_tui.services.cron_schedule import (
    CronError,
    fires_between,
    in_words,
    needs_newer,
    next_runs,
    shortest_gap,
    zone_named,
)

__all__ = ["Cron", "CronError", "CronJob", "CronRun", "HistoryKey", "RunPage", "next_runs"]

HISTORY_PAGE = 100
RUN_LOG = "crestfall.cron_runs"
RUN_LOG_SCRIPT = "50_cron.sql"
"""The init script that makes the studio's log of the runs it starts by hand."""
HISTORY_INDEXES = (
    "create index concurrently if not exists crestfall_cron_runs_job_idx "
    "on cron.job_run_details (jobid, runid)",
    "create index concurrently if not exists crestfall_cron_runs_start_idx "
    "on cron.job_run_details (start_time)",
    "create index concurrently if not exists crestfall_cron_runs_failed_idx "
    "on cron.job_run_details (runid) where status = 'failed'",
)
"""What the per-job lookups (last run, a job's history), the last 24 hours and the failed
runs across jobs need to stay fast at millions of runs (pg_cron indexes only the run id);
offered before they are made."""
_IN_FLIGHT = ("starting", "running", "sending", "connecting")
LATE_AFTER = 30
"""Seconds past its minute after which a run counts as late: pg_cron starts a run within a
second or two of its minute unless it queued behind the job's previous run or waited for a
free worker."""


@dataclass(frozen=True)
class CronJob:
    id: int
    name: str
    schedule: str
    command: str
    database: str
    username: str
    active: bool
    last_status: str | None
    last_start: datetime | None
    last_end: datetime | None
    runs_24h: int
    failures_24h: int
    first_start: datetime | None = None
    """When its first recorded run started (pg_cron keeps no creation time)."""
    longest_24h: timedelta | None = None
    late_24h: int = 0
    """Runs in 24 h that started over LATE_AFTER seconds past their minute."""

    @property
    def last_duration(self) -> timedelta | None:
        if self.last_start is None or self.last_end is None:
            return None
        return self.last_end - self.last_start

    @property
    def words(self) -> str:
        return in_words(self.schedule)

    def next_runs(self, zone: Any = UTC, after: datetime | None = None,
                  count: int = 3) -> list[datetime]:
        """When pg_cron runs the job next, in `zone` (the one it schedules in)."""
        return next_runs(self.schedule, zone, after, count)

    def expected_24h(self, now: datetime | None = None, zone: Any = UTC) -> int:
        """How many times the schedule fired in the last 24 hours, counted from its first
        recorded run when that is later, up to a minute ago (a run due this minute may
        not have started)."""
        now = now or datetime.now(UTC)
        since = now - timedelta(hours=24)
        if self.first_start is not None and self.first_start > since:
            since = self.first_start - timedelta(seconds=1)
        return fires_between(self.schedule, since, now - timedelta(minutes=1), zone)

    def health(self, now: datetime | None = None, zone: Any = UTC) -> list[str]:
        """What looks wrong: runs missed in 24 hours, runs that overlapped the next one or
        queued behind it, always failing, a run stuck in running for over an hour, never
        ran at all."""
        now = now or datetime.now(UTC)
        flags = []
        expected = self.expected_24h(now, zone) if self.active and self.first_start else 0
        if self.runs_24h < expected:
            flags.append(f"missed: {self.runs_24h} of {expected} runs in 24 h")
        gap = shortest_gap(self.schedule)
        if self.longest_24h is not None and gap is not None and self.longest_24h > gap:
            flags.append(f"overlapping: a run took {_span(self.longest_24h)}, longer than "
                         f"the {_span(gap)} between runs (pg_cron queues the next)")
        if self.late_24h:
            flags.append(f"late: {self.late_24h} run(s) in 24 h started over {LATE_AFTER} s "
                         "past their minute (queued, or no free worker)")
        if self.runs_24h and self.failures_24h == self.runs_24h:
            flags.append("always failing (every run in 24 h failed)")
        if self.last_status in _IN_FLIGHT and self.last_start is not None and \
                now - self.last_start > timedelta(hours=1):
            flags.append(f"stuck: {self.last_status} since {self.last_start:%Y-%m-%d %H:%M}")
        if self.last_start is None and self.active:
            flags.append("no run recorded yet")
        return flags

    def to_json(self, zone: tzinfo = UTC) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "schedule": self.schedule,
                "schedule_in_words": self.words, "command": self.command,
                "database": self.database, "username": self.username, "active": self.active,
                "last_run": None if self.last_start is None else {
                    "status": self.last_status, "start": self.last_start.isoformat(),
                    "end": self.last_end.isoformat() if self.last_end else None},
                "runs_24h": self.runs_24h, "failures_24h": self.failures_24h,
                "zone": str(zone),
                "next_runs": [at.isoformat() for at in self.next_runs(zone)] if self.active
                else [], "health": self.health(zone=zone)}


class CronRun(NamedTuple):
    """One run, as read: a tuple, so a page of rows becomes runs at the cost of a tuple
    each (a frozen dataclass cost half the page's read)."""

    id: int
    job_id: int
    status: str
    return_message: str
    start: datetime | None
    end: datetime | None
    pid: int | None
    manual: bool = False
    """Started by hand from the studio (its own run log), not by pg_cron."""

    @property
    def duration(self) -> timedelta | None:
        return None if self.start is None or self.end is None else self.end - self.start

    @property
    def in_flight(self) -> bool:
        return self.status in _IN_FLIGHT

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "job_id": self.job_id, "status": self.status,
                "return_message": self.return_message, "manual": self.manual,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None, "pid": self.pid}


HistoryKey = tuple[int, datetime | None]
"""Where a page of history ends: the last pg_cron run's id and start."""


@dataclass(frozen=True)
class RunPage:
    """A page of runs, newest first, and where the next one starts (None at the end)."""

    runs: list[CronRun]
    after: HistoryKey | None = field(default=None)


_JOBS = f"""
with day as (
    select d.jobid, count(*) as runs, count(*) filter (where d.status = 'failed') as failures,
           max(d.end_time - d.start_time) as longest,
           count(*) filter (where d.start_time - date_trunc('minute', d.start_time)
                            > interval '{LATE_AFTER} seconds') as late
    from cron.job_run_details d
    where d.start_time > now() - interval '24 hours' group by d.jobid)
select j.jobid, coalesce(j.jobname::text, ''), j.schedule, j.command, j.database, j.username,
       j.active, last.status, last.start_time, last.end_time,
       coalesce(day.runs, 0), coalesce(day.failures, 0), first.start_time, day.longest,
       coalesce(day.late, 0)
from cron.job j
left join lateral (
    select d.status, d.start_time, d.end_time from cron.job_run_details d
    where d.jobid = j.jobid order by d.runid desc limit 1) last on true
left join lateral (
    select d.start_time from cron.job_run_details d
    where d.jobid = j.jobid order by d.runid limit 1) first on true
left join day on day.jobid = j.jobid
"""
"""Every job with its last and first run (by the (jobid, runid) index) and its last 24
hours, aggregated over that day's runs alone (by the start_time index) in one pass."""


class Cron:
    """pg_cron in the stack's database, through one kept connection."""

    def __init__(self, postgres: PostgresClient) -> None:
        self.postgres = postgres
        self.calls = Calls(postgres, CronError)
        self._has_run_log: bool | None = None

    async def close(self) -> None:
        await self.calls.close()

    async def version(self) -> str:
        """pg_cron's extension version (`1.4-1` on Debian 12); an error when it is not
        installed in this database."""
        async with self.calls.connection() as conn:
            row = await (await conn.execute(
                "select extversion from pg_extension where extname = 'pg_cron'")).fetchone()
        if row is None:
            raise CronError("pg_cron is not installed in this database (it lives in the "
                            "database cron.database_name names, `postgres` on the stack)")
        return str(row[0])

    async def zone(self) -> tzinfo:
        """The zone pg_cron schedules in: `cron.timezone` (pg_cron 1.5+), else GMT."""
        async with self.calls.connection() as conn:
            row = await (await conn.execute(
                "select current_setting('cron.timezone', true)")).fetchone()
        return zone_named(str(row[0]) if row and row[0] else None)

    async def jobs(self) -> list[CronJob]:
        """Every job this login may see, by id, with its last run and its 24 hours."""
        async with self.calls.connection() as conn:
            rows = await (await conn.execute(_JOBS + " order by j.jobid")).fetchall()
        return [_job(row) for row in rows]

    async def job(self, name: str) -> CronJob:
        """A job by name (or id)."""
        async with self.calls.connection() as conn:
            row = await (await conn.execute(
                _JOBS + " where j.jobname::text = %s or j.jobid::text = %s "
                "order by j.jobid limit 1", (name, name))).fetchone()
        if row is None:
            raise CronError(f"no cron job {name!r}")
        return _job(row)

    async def sees_every_job(self) -> bool:
        """Whether this login sees every job (pg_cron's RLS shows a role only its own,
        unless it is a superuser or bypasses RLS)."""
        async with self.calls.connection() as conn:
            row = await (await conn.execute(
                "select rolsuper or rolbypassrls from pg_roles "
                "where rolname = current_user")).fetchone()
        return bool(row and row[0])

    async def check_schedule(self, schedule: str) -> None:
        """Let pg_cron itself read the schedule, in a transaction rolled back; its refusal
        (or a feature of a newer pg_cron) as a CronError."""
        import psycopg

        if why := needs_newer(schedule, await self.version()):
            raise CronError(why)
        async with self.calls.connection() as conn:
            try:
                async with conn.transaction(force_rollback=True):
                    await conn.execute("select cron.schedule('crestfall schedule check', "
                                       "%s, 'select 1')", (schedule,))
            except psycopg.errors.InvalidParameterValue as error:
                raise CronError(str(error.diag.message_primary)) from None

    async def add(self, name: str, schedule: str, command: str, *,
                  database: str | None = None, username: str | None = None) -> CronJob:
        """Schedule `command` as the job `name` (pg_cron checks the schedule); an existing
        name is refused, not replaced."""
        import psycopg

        if not name.strip():
            raise CronError("a job needs a name")
        await self.check_schedule(schedule)
        async with self.calls.connection() as conn:
            exists = await (await conn.execute(
                "select 1 from cron.job where jobname = %s", (name,))).fetchone()
            if exists:
                raise CronError(f"a cron job {name!r} exists already")
            try:
                if database or username:
                    await conn.execute(
                        "select cron.schedule_in_database(%s, %s, %s, "
                        "coalesce(%s, current_database()), %s)",
                        (name, schedule, command, database, username))
                else:
                    await conn.execute("select cron.schedule(%s, %s, %s)",
                                       (name, schedule, command))
            except psycopg.errors.StringDataRightTruncation:
                raise CronError("the job name is longer than pg_cron keeps (63 bytes in "
                                "pg_cron 1.4)") from None
            except psycopg.Error as error:
                raise CronError(str(error.diag.message_primary or error)) from None
        return await self.job(name)

    async def update(self, name: str, *, schedule: str | None = None,
                     command: str | None = None, database: str | None = None,
                     username: str | None = None) -> CronJob:
        """Change what is given of a job, through `cron.alter_job` (the schedule checked
        first)."""
        import psycopg

        job = await self.job(name)
        if schedule is not None and schedule != job.schedule:
            await self.check_schedule(schedule)
        async with self.calls.connection() as conn:
            try:
                await conn.execute(
                    "select cron.alter_job(%s, schedule => %s, command => %s, "
                    "database => %s, username => %s)",
                    (job.id, schedule, command, database, username))
            except psycopg.Error as error:
                raise CronError(str(error.diag.message_primary or error)) from None
        return await self.job(str(job.id))

    async def set_active(self, name: str, active: bool) -> CronJob:
        job = await self.job(name)
        async with self.calls.connection() as conn:
            await conn.execute("select cron.alter_job(%s, active => %s)", (job.id, active))
        return await self.job(str(job.id))

    async def remove(self, name: str) -> CronJob:
        job = await self.job(name)
        async with self.calls.connection() as conn:
            await conn.execute("select cron.unschedule(%s::bigint)", (job.id,))
        return job

    async def job_id(self, name: str) -> int:
        """A job's id by its name (or id), without reading its runs."""
        async with self.calls.connection() as conn:
            row = await (await conn.execute(
                "select jobid from cron.job where jobname::text = %s or jobid::text = %s "
                "order by jobid limit 1", (name, name))).fetchone()
        if row is None:
            raise CronError(f"no cron job {name!r}")
        return int(row[0])

    async def history(self, job: int | str | None = None, *, failed: bool = False,
                      since: timedelta | None = None, after: HistoryKey | None = None,
                      limit: int = HISTORY_PAGE) -> RunPage:
        """Runs newest first (of one job, by id or name, or of all), the page after `after`
        (the previous page's): pg_cron's read by run id, never counted whole, and the
        studio's manual runs of the span that page covers, in the same statement."""
        params: list[Any] = []
        if job is not None:
            params.append(job if isinstance(job, int) else await self.job_id(job))
        if since is not None:
            params.append(since)
        own_params = [*params]
        if after is not None:
            params.append(after[0])
        params.append(limit)
        async with self.calls.connection() as conn:
            with_log = await self.has_run_log(conn)
            if with_log:
                params += [*own_params, after[1] if after else None, limit]
            statement = _history_sql(job is not None, failed, since is not None,
                                     after is not None, with_log)
            rows = await (await conn.execute(statement, params)).fetchall()
        runs = list(map(CronRun._make, rows))
        scheduled = [run for run in runs if not run.manual]
        last = scheduled[-1] if len(scheduled) == limit else None
        if len(scheduled) < len(runs):  # manual runs in between: in time order
            runs.sort(key=lambda r: r.start or datetime.min.replace(tzinfo=UTC), reverse=True)
        return RunPage(runs, (last.id, last.start) if last else None)

    async def has_run_log(self, conn: Any) -> bool:
        """Whether the studio's run log is in this database (init script 50_cron.sql)."""
        if self._has_run_log is None:
            row = await (await conn.execute(
                "select to_regclass('crestfall.cron_runs') is not null")).fetchone()
            self._has_run_log = bool(row and row[0])
        return self._has_run_log

    async def make_run_log(self, conn: Any) -> None:
        """Make the run log where the init scripts did not (a remote stack), as they do."""
        from crestfall_tui.resources import init_sql_files

        if not await self.has_run_log(conn):
            script = next(p for p in init_sql_files() if p.name == RUN_LOG_SCRIPT)
            await conn.execute(script.read_text(encoding="utf-8"))
            self._has_run_log = True

    async def running(self) -> list[CronRun]:
        """Runs in flight now, pg_cron's and the studio's, with their backend pids."""
        async with self.calls.connection() as conn:
            rows = await (await conn.execute(
                "select d.runid, d.jobid, d.status, coalesce(d.return_message, ''), "
                "d.start_time, d.end_time, d.job_pid, false from cron.job_run_details d "
                "where d.status = any(%s) and d.end_time is null "
                "order by d.runid desc limit 500", (list(_IN_FLIGHT),))).fetchall()
            runs = list(map(CronRun._make, rows))
            if await self.has_run_log(conn):
                rows = await (await conn.execute(
                    "select runid, jobid, status, coalesce(return_message, ''), start_time, "
                    "end_time, job_pid, true from crestfall.cron_runs where status = "
                    "'running' order by runid desc limit 500")).fetchall()
                runs += map(CronRun._make, rows)
        return runs

    async def cancel(self, run: CronRun) -> bool:
        """Cancel a run's statement (`pg_cancel_backend`), only while that backend is still
        recorded as running a job; whether a backend was signalled."""
        if run.pid is None:
            raise CronError(f"run {run.id} has no backend pid (pg_cron records it once the "
                            "run starts)")
        async with self.calls.connection() as conn:
            table = RUN_LOG if run.manual else "cron.job_run_details"
            from psycopg import sql

            row = await (await conn.execute(sql.SQL(
                "select pg_cancel_backend(job_pid) from {} where runid = %s and job_pid = %s "
                "and end_time is null").format(sql.Identifier(*table.split("."))),
                (run.id, run.pid))).fetchone()
        return bool(row and row[0])

    async def settings(self) -> list[tuple[str, str, str]]:
        """pg_cron's settings: (name, value, where it was set)."""
        async with self.calls.connection() as conn:
            rows = await (await conn.execute(
                "select name, setting, source from pg_settings where name like 'cron.%' "
                "order by name")).fetchall()
        return [(str(n), str(v), str(s)) for n, v, s in rows]

    async def missing_indexes(self) -> list[str]:
        """The history indexes that are not there yet: the statements that make them."""
        async with self.calls.connection() as conn:
            rows = await (await conn.execute(
                "select indexrelid::regclass::text from pg_index "
                "where indrelid = 'cron.job_run_details'::regclass")).fetchall()
        present = {str(name).rpartition(".")[2] for (name,) in rows}
        return [statement for statement in HISTORY_INDEXES
                if statement.split()[6] not in present]

    async def create_indexes(self) -> list[str]:
        """Make the missing history indexes (concurrently, so runs keep being written)."""
        missing = await self.missing_indexes()
        async with self.calls.connection() as conn:
            for statement in missing:
                await conn.execute(statement)
        return missing

@lru_cache(maxsize=64)
def _history_sql(job: bool, failed: bool, since: bool, after: bool, with_log: bool) -> bytes:
    """The history statement for the filters given (made once per shape): a page of
    pg_cron's runs by run id and, with the studio's run log, the manual runs that started
    before the last page's last run and not before this page's last one (any age at the
    end of the history). Its parameters: the job, the span, the run id before, the limit;
    then again the job and the span, the last page's last start, the limit."""
    from psycopg import sql

    conditions = ["true"]
    if job:
        conditions.append("d.jobid = %s")
    if failed:
        conditions.append("d.status = 'failed'")
    if since:
        conditions.append("d.start_time > now() - %s")
    own = all_of(conditions)
    if after:
        conditions.append("d.runid < %s")
    # This module's own fragments; every value a parameter.
    page = sql.SQL(
        "select d.runid, d.jobid, coalesce(d.status, ''), coalesce(d.return_message, ''),"
        " d.start_time, d.end_time, d.job_pid, false from cron.job_run_details d "
        "where {} order by d.runid desc limit %s").format(all_of(conditions))
    if with_log:
        page = sql.SQL(
            "with page as materialized ({}) select * from page union all "
            "select d.runid, d.jobid, d.status, coalesce(d.return_message, ''), "
            "d.start_time, d.end_time, d.job_pid, true from crestfall.cron_runs d "
            "where {} and d.start_time < coalesce(%s::timestamptz, 'infinity') and "
            "d.start_time >= coalesce(case when (select count(*) from page) = %s "
            "then (select p.start_time from page p order by p.runid limit 1) end, "
            "'-infinity')").format(page, own)
    return page.as_bytes(None)


def _span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"





def _job(row: tuple[Any, ...]) -> CronJob:
    (job_id, name, schedule, command, database, username, active, status, start, end,
     runs, failures, first, longest, late) = row
    return CronJob(int(job_id), str(name), str(schedule), str(command), str(database),
                   str(username), bool(active), None if status is None else str(status),
                   start, end, int(runs), int(failures), first, longest, int(late))
