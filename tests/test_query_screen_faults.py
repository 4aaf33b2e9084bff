"""The Query screen when the database goes away under it, and a result left half-read."""

from __future__ import annotations

from dataclasses import replace

import psycopg
from textual.widgets import TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.screens import QueryScreen
from tests.drivers import log_text, open_query, until
from tests.helpers import StackUnderTest


async def test_restart_under_a_manual_transaction(scratch: StackUnderTest) -> None:
    """A restart of Postgres under an open transaction is shown as a lost transaction;
    ctrl+o then says nothing was committed (no crash), table edits stay pending, and the
    next statement runs at once on a new connection."""
    with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
        conn.execute("create table if not exists lost_tx (v int)")
    app = CrestfallApp(scratch.stack, scratch.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(scratch, app, "insert into lost_tx values (1)")
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        await pilot.press("ctrl+t")
        await pilot.press("ctrl+j")
        editor = screen.query_one(TextArea)
        await until(pilot, lambda: "TRANSACTION OPEN" in str(editor.border_subtitle))
        app.studio.table_pending.insert({"v": "typed before the restart"})
        scratch.runtime.restart("db")
        await until(pilot, lambda: "TRANSACTION LOST" in str(editor.border_subtitle),
                    within=20)
        await pilot.press("ctrl+o")
        await app.workers.wait_for_complete()
        assert app.is_running and len(app.studio.table_pending) == 1
        editor.text = "select 41 + 1 as answer"
        await pilot.press("ctrl+j")
        await until(pilot, lambda: "SELECT 1" in log_text(app))
        assert "ERROR" not in log_text(app)
    with psycopg.connect(scratch.conninfo) as conn:
        assert conn.execute("select count(*) from lost_tx").fetchone() == (0,)


async def test_a_half_read_result_is_released_when_idle(scratch: StackUnderTest) -> None:
    """A result nobody scrolls gives its transaction back after release_idle_results: the
    rows shown stay, the session is no longer idle in transaction, an ALTER goes through."""
    with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
        conn.execute("drop table if exists held; create table held as "
                     "select g from generate_series(1, 20000) g")
    app = CrestfallApp(replace(scratch.stack, release_idle_results=1), scratch.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(scratch, app, "select * from held")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: "rows so far" in str(app.screen.query_one("#query-status")
                                                             .render()))
        await until(pilot, lambda: "released after 1s idle" in log_text(app), within=10)
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            idle = conn.execute("select count(*) from pg_stat_activity "
                                "where state like 'idle in transaction%'").fetchone()
            assert idle == (0,)
            conn.execute("set lock_timeout = '2s'")
            conn.execute("alter table held add column note text")
        assert not app.studio.query_session.in_transaction
