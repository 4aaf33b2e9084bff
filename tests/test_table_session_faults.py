"""The Tables session when Postgres is killed under it: nothing typed is lost."""

from __future__ import annotations

import os
import signal

import psycopg

from crestfall_tui.services.pending import PendingChanges
from crestfall_tui.services.table_session import TableSession
from crestfall_tui.services.table_view import TableView
from tests.helpers import StackUnderTest, eventually


async def test_pending_edits_survive_a_kill_9_and_commit_after(scratch: StackUnderTest) -> None:
    """kill -9 of the postmaster with three edits pending: they stay pending, and once the
    stack is up again the first commit writes all three (no stale-connection error)."""
    with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
        conn.execute("drop table if exists survivors; create table survivors "
                     "(id int primary key, v text); insert into survivors "
                     "select g, 'old' from generate_series(1, 5) g")
    session = TableSession(scratch.runtime.postgres(read_only=False))
    try:
        table = await session.table("public", "survivors")
        rows = await session.page(TableView(table), "first")
        pending = PendingChanges()
        for row in rows[:3]:
            pending.set_cell(row, "v", "new", "old")
        pid = scratch.runtime.db.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert eventually(lambda: scratch.runtime.db.pid() is None, 15)
        assert len(pending) == 3
        scratch.runtime.up()
        await session.commit(table, pending)
        assert len(pending) == 0
    finally:
        await session.close()
    with psycopg.connect(scratch.conninfo) as conn:
        assert conn.execute("select count(*) from survivors where v = 'new'").fetchone() == (3,)
