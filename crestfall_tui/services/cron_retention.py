"""Keeping pg_cron's history in bounds: how big `cron.job_run_details` is and how fast it
grows per job, old runs deleted in batches (never one long transaction), and that clean-up
installed as a cron job of its own. No Textual here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crestfall_tui.services.cron import Cron, CronError, CronJob

PRUNE_BATCH = 10_000
CLEANUP_JOB = "crestfall-cron-history-retention"
CLEANUP_SCHEDULE = "17 3 * * *"


@dataclass(frozen=True)
class HistorySize:
    bytes: int
    rows: int
    """The planner's estimate: the table is never counted whole."""
    oldest: datetime | None
    per_job: list[tuple[CronJob, int]]
    """Each job with its runs in the last 24 hours, most first."""
    cleanup: CronJob | None
    """The clean-up job, where one is installed."""

    @property
    def rows_per_day(self) -> int:
        return sum(runs for _job, runs in self.per_job)

    @property
    def bytes_per_day(self) -> int:
        """The growth forecast: a day's rows at the table's average row size."""
        return self.rows_per_day * self.bytes // self.rows if self.rows else 0


async def history_size(cron: Cron) -> HistorySize:
    """The history table's size, estimated rows, oldest run and rows per day per job."""
    jobs = await cron.jobs()
    async with cron.calls.connection() as conn:
        row = await (await conn.execute(
            "select pg_total_relation_size('cron.job_run_details'), "
            "greatest(c.reltuples, 0)::bigint, (select start_time from cron.job_run_details "
            "order by runid limit 1) from pg_class c "
            "where c.oid = 'cron.job_run_details'::regclass")).fetchone()
    assert row is not None
    cleanup = next((job for job in jobs if job.name == CLEANUP_JOB), None)
    per_job = sorted(((job, job.runs_24h) for job in jobs), key=lambda pair: -pair[1])
    return HistorySize(int(row[0]), int(row[1]), row[2], per_job, cleanup)


async def prune(cron: Cron, older_than: timedelta, *, batch: int = PRUNE_BATCH,
                progress: Callable[[int], None] | None = None) -> int:
    """Delete runs (pg_cron's, then the studio's manual ones) that ended (or started) more
    than `older_than` ago, `batch` rows at a time, each batch its own transaction (never
    one long one); the rows deleted."""
    from psycopg import sql

    if cron.postgres.read_only:
        raise CronError("this stack is open read-only; pruning deletes runs")
    deleted = 0
    tables = await _run_tables(cron)
    async with cron.calls.connection() as conn:
        for schema, table in tables:
            while True:
                cursor = await conn.execute(sql.SQL(
                    "delete from {table} where runid in (select runid from {table} where "
                    "coalesce(end_time, start_time) < now() - %s order by runid limit %s)"
                ).format(table=sql.Identifier(schema, table)), (older_than, batch))
                done = max(int(cursor.rowcount), 0)
                deleted += done
                if progress is not None:
                    progress(deleted)
                if done < batch:
                    break
    return deleted


def cleanup_command(keep_days: int, *, with_run_log: bool = True) -> str:
    """What the clean-up job runs: a day's worth of old runs at a time, daily; the
    studio's manual runs too, where its run log is."""
    tables = ["cron.job_run_details", *(["crestfall.cron_runs"] if with_run_log else [])]
    return "; ".join(f"delete from {table} where coalesce(end_time, start_time) < "
                     f"now() - interval '{int(keep_days)} days'" for table in tables)


async def install_cleanup(cron: Cron, keep_days: int,
                          schedule: str = CLEANUP_SCHEDULE) -> CronJob:
    """Install (or change) the daily clean-up job that keeps `keep_days` of history."""
    if keep_days < 1:
        raise CronError("keep at least one day of history")
    command = cleanup_command(keep_days, with_run_log=len(await _run_tables(cron)) > 1)
    try:
        await cron.job(CLEANUP_JOB)
    except CronError:
        return await cron.add(CLEANUP_JOB, schedule, command)
    return await cron.update(CLEANUP_JOB, schedule=schedule, command=command)


async def _run_tables(cron: Cron) -> list[tuple[str, str]]:
    """The tables that hold runs: pg_cron's, and the studio's run log where it is."""
    async with cron.calls.connection() as conn:
        with_log = await cron.has_run_log(conn)
    return [("cron", "job_run_details"), *([("crestfall", "cron_runs")] if with_log else [])]
