"""A job's command run by hand, as pg_cron would run it: in the job's database, as the job's
user. Run now executes it and records the run in the studio's run log (pg_cron's own table
is pg_cron's to write); the dry run only plans each statement, in a transaction rolled
back. No Textual here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crestfall_tui.services.cron import RUN_LOG, Cron, CronError, CronJob, CronRun
from crestfall_tui.services.sql_text import split_statements

EXPLAINABLE = {"select", "insert", "update", "delete", "merge", "values", "with", "table",
               "execute", "("}
"""The statements EXPLAIN plans; others (VACUUM, CALL, DO, DDL) are shown as they would run."""


@dataclass(frozen=True)
class PlannedStatement:
    text: str
    plan: str | None
    """EXPLAIN's plan; None when the statement is not one EXPLAIN plans, or failed."""
    problem: str | None = None
    """Why the plan failed (a missing table, a privilege the job's user lacks)."""


async def run_now(cron: Cron, name: str, *,
                  started: Callable[[CronRun], None] | None = None) -> CronRun:
    """Run the job's command now, as its user in its database, recorded in the studio's run
    log from start to end. Cancelling the awaiting task cancels the statement on the server
    and records the run failed."""
    import psycopg

    if cron.postgres.read_only:
        raise CronError("this stack is open read-only; run now runs the job's command, "
                        "which may write")
    job = await cron.job(name)
    conn = await cron.postgres.on_database(job.database).open()
    try:
        await _become(conn, job.username)
        run = await _log_start(cron, job, conn.info.backend_pid)
        if started is not None:
            started(run)
        status, message = "failed", "cancelled from the studio"
        try:
            # No parameters: psycopg sends the simple query protocol, so a command of
            # several statements runs as pg_cron runs it.
            cursor = await conn.execute(job.command.encode())
            while cursor.nextset():  # pg_cron keeps the last statement's outcome
                pass
            status, message = "succeeded", cursor.statusmessage or ""
        except psycopg.Error as error:
            message = error.diag.message_primary or str(error)
        finally:
            ended = await asyncio.shield(_log_end(cron, run.id, status, message))
        return ended
    finally:
        await conn.close()


async def dry_run(cron: Cron, job: CronJob) -> list[PlannedStatement]:
    """EXPLAIN each statement of the job's command as its user in its database, in one
    transaction rolled back (a statement that is not planned is shown as it would run)."""
    import psycopg
    from psycopg import sql

    conn = await cron.postgres.on_database(job.database).open()
    planned: list[PlannedStatement] = []
    try:
        async with conn.transaction(force_rollback=True):
            await _become(conn, job.username, local=True)
            for statement in split_statements(job.command):
                text = statement.text.strip()
                if statement.first_word not in EXPLAINABLE:
                    planned.append(PlannedStatement(text, None))
                    continue
                try:
                    async with conn.transaction():  # a savepoint: one failure stays its own
                        rows = await (await conn.execute(
                            sql.SQL("explain {}").format(sql.SQL(text)))).fetchall()
                    planned.append(PlannedStatement(text, "\n".join(str(r[0]) for r in rows)))
                except psycopg.Error as error:
                    planned.append(PlannedStatement(
                        text, None, error.diag.message_primary or str(error)))
    except psycopg.Error as error:
        raise CronError(error.diag.message_primary or str(error)) from None
    finally:
        await conn.close()
    return planned


async def _become(conn: Any, username: str, *, local: bool = False) -> None:
    """Take the job's user as the session's (or this transaction's) role, unless the login
    is that user."""
    import psycopg
    from psycopg import sql

    if conn.info.user == username:
        return
    try:
        await conn.execute(sql.SQL("set local role {}" if local else "set role {}").format(
            sql.Identifier(username)))
    except psycopg.Error as error:
        raise CronError(f"cannot run as the job's user {username!r}: "
                        f"{error.diag.message_primary or error}") from None


async def _log_start(cron: Cron, job: CronJob, pid: int) -> CronRun:
    async with cron.calls.connection() as conn:
        await cron.make_run_log(conn)
        row = await (await conn.execute(
            "insert into crestfall.cron_runs (jobid, command, database, username, status, "
            "job_pid) values (%s, %s, %s, %s, 'running', %s) returning runid, start_time",
            (job.id, job.command, job.database, job.username, pid))).fetchone()
    assert row is not None
    return CronRun(int(row[0]), job.id, "running", "", row[1], None, pid, manual=True)


async def _log_end(cron: Cron, run_id: int, status: str, message: str) -> CronRun:
    async with cron.calls.connection() as conn:
        row = await (await conn.execute(
            "update crestfall.cron_runs set status = %s, return_message = %s, "
            "end_time = clock_timestamp() where runid = %s returning runid, jobid, status, "
            "return_message, start_time, end_time, job_pid, true",
            (status, message, run_id))).fetchone()
    if row is None:
        raise CronError(f"manual run {run_id} vanished from {RUN_LOG}")
    return CronRun._make(row)
