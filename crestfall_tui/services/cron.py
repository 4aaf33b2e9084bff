"""pg_cron's jobs and their runs, read and changed through pg_cron's own functions: jobs
with their next runs (computed here with croniter, in the zone pg_cron schedules in), their
last run and their last 24 hours; history paged newest first by key, never counted whole;
retention in batches. No Textual here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.calls import Calls, all_of

HISTORY_PAGE = 100
PRUNE_BATCH = 10_000
NEXT_RUNS = 3
HISTORY_INDEX = ("create index concurrently if not exists crestfall_cron_runs_job_idx "
                 "on cron.job_run_details (jobid, runid)")
"""What the per-job lookups (last run, 24 hours, a job's history) need to stay fast at
millions of runs; offered before it is made."""
_SECONDS = re.compile(r"^\s*\d+\s+seconds?\s*$", re.IGNORECASE)


class CronError(CrestfallError):
    def __init__(self, message: str) -> None:
        super().__init__(message, title="Cron")


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

    @property
    def last_duration(self) -> timedelta | None:
        if self.last_start is None or self.last_end is None:
            return None
        return self.last_end - self.last_start

    def next_runs(self, zone: Any = UTC, after: datetime | None = None,
                  count: int = NEXT_RUNS) -> list[datetime]:
        """When pg_cron runs the job next, in `zone` (GMT for pg_cron 1.4)."""
        return next_runs(self.schedule, zone, after, count)

    def expected_24h(self, now: datetime | None = None) -> int:
        """How many times the schedule fired in the last 24 hours (GMT), counted from its
        first recorded run when that is later."""
        now = now or datetime.now(UTC)
        since = now - timedelta(hours=24)
        if self.first_start is not None and self.first_start > since:
            since = self.first_start - timedelta(seconds=1)
        fired = 0
        settled = now - timedelta(minutes=1)  # a run due this minute may not have started
        for at in next_runs(self.schedule, UTC, since, 1441):
            if at > settled:
                break
            fired += 1
        return fired

    def health(self, now: datetime | None = None) -> list[str]:
        """What looks wrong: runs missed in the last 24 hours, always failing, a run stuck
        in running for over an hour, never ran at all."""
        now = now or datetime.now(UTC)
        flags = []
        expected = self.expected_24h(now) if self.active and self.first_start else 0
        if self.runs_24h < expected:
            flags.append(f"missed: {self.runs_24h} of {expected} runs in 24 h")
        if self.runs_24h and self.failures_24h == self.runs_24h:
            flags.append("always failing (every run in 24 h failed)")
        if self.last_status in ("starting", "running", "sending", "connecting") and \
                self.last_start is not None and now - self.last_start > timedelta(hours=1):
            flags.append(f"stuck: {self.last_status} since {self.last_start:%Y-%m-%d %H:%M}")
        if self.last_start is None and self.active:
            flags.append("no run recorded yet")
        return flags

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "schedule": self.schedule,
                "command": self.command, "database": self.database,
                "username": self.username, "active": self.active,
                "last_run": None if self.last_start is None else {
                    "status": self.last_status, "start": self.last_start.isoformat(),
                    "end": self.last_end.isoformat() if self.last_end else None},
                "runs_24h": self.runs_24h, "failures_24h": self.failures_24h,
                "next_runs": [at.isoformat() for at in self.next_runs()] if self.active
                else [], "health": self.health()}


@dataclass(frozen=True)
class CronRun:
    id: int
    job_id: int
    status: str
    return_message: str
    start: datetime | None
    end: datetime | None
    pid: int | None

    @property
    def duration(self) -> timedelta | None:
        return None if self.start is None or self.end is None else self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "job_id": self.job_id, "status": self.status,
                "return_message": self.return_message,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None, "pid": self.pid}


def next_runs(schedule: str, zone: Any = UTC, after: datetime | None = None,
              count: int = NEXT_RUNS) -> list[datetime]:
    """The next `count` times a 5-field cron schedule (or @daily-style entry) fires after
    `after` (now), in `zone`; empty for a schedule croniter does not read (pg_cron refuses
    those too)."""
    from croniter import croniter

    start = (after or datetime.now(UTC)).astimezone(zone)
    try:
        found = croniter(schedule, start)
        return [found.get_next(datetime) for _ in range(count)]
    except (ValueError, KeyError):
        return []


_JOBS = """
select j.jobid, coalesce(j.jobname::text, ''), j.schedule, j.command, j.database, j.username,
       j.active, last.status, last.start_time, last.end_time,
       coalesce(day.runs, 0), coalesce(day.failures, 0), first.start_time
from cron.job j
left join lateral (
    select d.status, d.start_time, d.end_time from cron.job_run_details d
    where d.jobid = j.jobid order by d.runid desc limit 1) last on true
left join lateral (
    select d.start_time from cron.job_run_details d
    where d.jobid = j.jobid order by d.runid limit 1) first on true
left join lateral (
    select count(*) as runs, count(*) filter (where d.status = 'failed') as failures
    from cron.job_run_details d
    where d.jobid = j.jobid and d.start_time > now() - interval '24 hours') day on true
"""


class Cron:
    """pg_cron in the stack's database, through one kept connection."""

    def __init__(self, postgres: PostgresClient) -> None:
        self.postgres = postgres
        self.calls = Calls(postgres, CronError)

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

    async def add(self, name: str, schedule: str, command: str, *,
                  database: str | None = None) -> CronJob:
        """Schedule `command` as the job `name` (pg_cron checks the schedule); an existing
        name is refused, not replaced."""
        import psycopg

        version = await self.version()
        self._check_schedule(schedule, version)
        if not name.strip():
            raise CronError("a job needs a name")
        async with self.calls.connection() as conn:
            exists = await (await conn.execute(
                "select 1 from cron.job where jobname = %s", (name,))).fetchone()
            if exists:
                raise CronError(f"a cron job {name!r} exists already")
            try:
                if database:
                    await conn.execute("select cron.schedule_in_database(%s, %s, %s, %s)",
                                       (name, schedule, command, database))
                else:
                    await conn.execute("select cron.schedule(%s, %s, %s)",
                                       (name, schedule, command))
            except psycopg.errors.StringDataRightTruncation:
                raise CronError("the job name is longer than pg_cron keeps (63 bytes in "
                                "pg_cron 1.4)") from None
            except psycopg.errors.InvalidParameterValue as error:
                raise CronError(str(error.diag.message_primary)) from None
        return await self.job(name)

    async def settings(self) -> list[tuple[str, str, str]]:
        """pg_cron's settings: (name, value, where it was set)."""
        async with self.calls.connection() as conn:
            rows = await (await conn.execute(
                "select name, setting, source from pg_settings where name like 'cron.%' "
                "order by name")).fetchall()
        return [(str(n), str(v), str(s)) for n, v, s in rows]

    async def missing_index(self) -> str | None:
        """The index that makes a job's history read by key (pg_cron indexes only the run
        id), when it is not there: the statement that makes it; None when it is."""
        async with self.calls.connection() as conn:
            row = await (await conn.execute(
                "select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
                "and a.attnum = i.indkey[0] where i.indrelid = "
                "'cron.job_run_details'::regclass and a.attname = 'jobid'")).fetchone()
        return None if row else HISTORY_INDEX

    async def create_index(self) -> str:
        """Make the history index (concurrently, so runs keep being written)."""
        async with self.calls.connection() as conn:
            await conn.execute(HISTORY_INDEX)
        return HISTORY_INDEX

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

    async def history(self, name: str | None = None, *, failed: bool = False,
                      since: timedelta | None = None, before: int | None = None,
                      limit: int = HISTORY_PAGE) -> list[CronRun]:
        """Runs newest first (of one job, or all), the page before the run id `before`:
        read by key, never counted whole."""
        conditions: list[str] = ["true"]
        params: list[Any] = []
        if name is not None:
            conditions.append("d.jobid = %s")
            params.append((await self.job(name)).id)
        if failed:
            conditions.append("d.status = 'failed'")
        if since is not None:
            conditions.append("d.start_time > now() - %s")
            params.append(since)
        if before is not None:
            conditions.append("d.runid < %s")
            params.append(before)
        from psycopg import sql

        async with self.calls.connection() as conn:
            # This module's own fragments; every value a parameter.
            rows = await (await conn.execute(sql.SQL(
                "select d.runid, d.jobid, coalesce(d.status, ''), "
                "coalesce(d.return_message, ''), d.start_time, d.end_time, d.job_pid "
                "from cron.job_run_details d where {} order by d.runid desc limit %s").format(
                    all_of(conditions)),
                [*params, limit])).fetchall()
        return [CronRun(int(i), int(j), str(s), str(m), start, end,
                        None if pid is None else int(pid))
                for i, j, s, m, start, end, pid in rows]

    async def prune(self, older_than: timedelta, *, batch: int = PRUNE_BATCH,
                    progress: Callable[[int], None] | None = None) -> int:
        """Delete runs that ended (or started) more than `older_than` ago, `batch` rows at
        a time, each batch its own transaction (never one long one); the rows deleted."""
        deleted = 0
        async with self.calls.connection() as conn:
            while True:
                cursor = await conn.execute(
                    "delete from cron.job_run_details where runid in (select runid from "
                    "cron.job_run_details where coalesce(end_time, start_time) < now() - %s "
                    "order by runid limit %s)", (older_than, batch))
                done = max(int(cursor.rowcount), 0)
                deleted += done
                if progress is not None:
                    progress(deleted)
                if done < batch:
                    return deleted

    @staticmethod
    def _check_schedule(schedule: str, version: str) -> None:
        """What pg_cron 1.4 cannot read, refused with the version that brings it."""
        major_minor = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
        if _SECONDS.match(schedule) and major_minor < (1, 5):
            raise CronError(f"schedules in seconds ({schedule.strip()!r}) need pg_cron 1.5; "
                            f"this database has {version}")
        if "$" in schedule and major_minor < (1, 6):
            raise CronError(f"`$` (the last day of the month) needs pg_cron 1.6; this "
                            f"database has {version}")


def _job(row: tuple[Any, ...]) -> CronJob:
    (job_id, name, schedule, command, database, username, active, status, start, end,
     runs, failures, first) = row
    return CronJob(int(job_id), str(name), str(schedule), str(command), str(database),
                   str(username), bool(active), None if status is None else str(status),
                   start, end, int(runs), int(failures), first)
