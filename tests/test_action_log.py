"""The action log holds every write the studio committed, from the Query section too, and
nothing that was rolled back: against the real Postgres, and in the studio by its keys."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from textual.widgets import TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.modals import TextModal
from crestfall_tui.services.action_log import ActionLog
from crestfall_tui.services.query_session import QueryError, QuerySession
from crestfall_tui.services.run_as import RunAs
from tests.drivers import open_query, until
from tests.helpers import StackUnderTest

Db = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def table(db: Db) -> Iterator[str]:
    name = f"log_{uuid.uuid4().hex[:8]}"
    db.execute(f"create table {name} (id int primary key, note text)")
    db.execute(f"grant all on {name} to service_role")
    yield name
    db.execute(f"drop table if exists {name}")
    db.execute(f"drop table if exists {name}_copy")


@pytest.fixture
async def logged(stack: StackUnderTest, tmp_path: Path) -> AsyncIterator[QuerySession]:
    session = QuerySession(stack.runtime.postgres(read_only=False),
                           log=ActionLog("local", tmp_path))
    yield session
    await session.close()


async def run(session: QuerySession, script: str) -> None:
    async for _ in session.run_all(script):
        pass


def statements(session: QuerySession) -> list[str]:
    """The statements logged, oldest first."""
    assert session.log is not None
    return [action.statement for action in reversed(session.log.entries())]


async def test_autocommit_writes_are_logged_and_reads_are_not(
        logged: QuerySession, table: str) -> None:
    """An INSERT, an UPDATE with its tag and rows, DDL and CREATE TABLE AS are logged as they
    commit; SELECT, SHOW, SET and a COPY out are not."""
    await run(logged, f"insert into {table} values (1, 'a'), (2, 'b');\n"
                      f"select * from {table}; show work_mem; set work_mem = '8MB';\n"
                      f"update {table} set note = 'c' where id < 3;\n"
                      f"create table {table}_copy as select * from {table};\n"
                      f"alter table {table} add column extra int")
    assert logged.log is not None
    actions = list(reversed(logged.log.entries()))
    assert [(a.source, a.tag, a.rows) for a in actions] == [
        ("query", "INSERT 0 2", 2), ("query", "UPDATE 2", 2), ("query", "SELECT 2", 2),
        ("query", "ALTER TABLE", 0)]
    assert actions[0].statement == f"insert into {table} values (1, 'a'), (2, 'b')"
    assert {a.database for a in actions} == {"postgres"} and actions[0].run_as == ""


async def test_a_transaction_is_logged_when_it_commits(
        logged: QuerySession, table: str) -> None:
    """Inside BEGIN nothing is logged until COMMIT; a ROLLBACK, a COMMIT of an aborted
    transaction and ROLLBACK TO SAVEPOINT drop what they undid."""
    await run(logged, f"begin; insert into {table} values (1)")
    assert statements(logged) == []
    await run(logged, "commit")
    assert statements(logged) == [f"insert into {table} values (1)"]

    await run(logged, f"begin; insert into {table} values (2); rollback")
    await run(logged, f"begin; insert into {table} values (3)")
    with pytest.raises(QueryError):
        await run(logged, f"insert into {table} values (3)")
    await run(logged, "commit")  # answered ROLLBACK: the transaction was aborted
    assert len(statements(logged)) == 1

    await run(logged, f"begin; insert into {table} values (4); savepoint \"Sp\";"
                      f"insert into {table} values (5); savepoint b;"
                      f"insert into {table} values (6); rollback to savepoint \"Sp\";"
                      f"insert into {table} values (7); commit")
    assert statements(logged)[1:] == [f"insert into {table} values (4)",
                                      f"insert into {table} values (7)"]


async def test_manual_mode_logs_at_commit_and_drops_at_rollback(
        logged: QuerySession, table: str) -> None:
    """ctrl+t's manual mode: writes wait for ctrl+o (commit) and vanish with ctrl+b."""
    await logged.set_manual(True)
    await run(logged, f"insert into {table} values (1)")
    await logged.rollback()
    await run(logged, f"insert into {table} values (2)")
    assert statements(logged) == []
    await logged.commit()
    assert statements(logged) == [f"insert into {table} values (2)"]


async def test_who_it_ran_as_is_logged(logged: QuerySession, table: str) -> None:
    logged.run_as = RunAs("service_role")
    await run(logged, f"delete from {table}")
    assert logged.log is not None
    [action] = logged.log.entries()
    assert (action.run_as, action.tag) == ("service_role", "DELETE 0")


async def test_a_write_run_in_the_query_section_shows_in_the_action_log(
        stack: StackUnderTest, table: str, db: Db) -> None:
    """Type an INSERT, ctrl+j, then the palette's action log: the statement, its tag and
    the section are there."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_query(stack, app, f"insert into {table} values (41, 'from query')")
        app.screen.query_one(TextArea).focus()
        await pilot.press("ctrl+j")
        await until(pilot, lambda: db.execute(f"select count(*) from {table}").fetchone()
                    == (1,))
        app.action_action_log()
        await until(pilot, lambda: isinstance(app.screen, TextModal))
        text = app.screen.query_one(TextArea).text
        assert f"insert into {table} values (41, 'from query');" in text
        assert "query  INSERT 0 1" in text
