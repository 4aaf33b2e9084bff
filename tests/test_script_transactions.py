"""A script's transactions run exactly as written, as psql runs them: the CLI, the session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from crestfall_tui.services.query_session import QueryError, QuerySession
from tests.helpers import StackUnderTest

Db = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def table(db: Db) -> Iterator[str]:
    """A table of this test's own, with a primary key, dropped after."""
    name = f"tx_{uuid.uuid4().hex[:8]}"
    db.execute(f"create table {name} (id int primary key)")
    yield name
    db.execute(f"drop table {name}")


def count(db: Db, table: str) -> int:
    row = db.execute(f"select count(*) from {table}").fetchone()
    assert row is not None
    return int(str(row[0]))


def test_rollback_in_a_script_commits_nothing(stack: StackUnderTest, db: Db, table: str) -> None:
    """begin; insert; rollback; leaves the table empty and exits 0 without a warning."""
    done = stack.cli("query", "-c", f"begin; insert into {table} values (1); rollback;")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["BEGIN", "INSERT 0 1", "ROLLBACK"]
    assert count(db, table) == 0


def test_an_error_inside_a_transaction_commits_nothing(
        stack: StackUnderTest, db: Db, table: str) -> None:
    """begin; insert; a duplicate insert; commit; commits neither insert and exits 1."""
    script = f"begin;\ninsert into {table} values (1);\ninsert into {table} values (1);\ncommit;"
    done = stack.cli("query", "-c", script)
    assert done.returncode == 1
    assert "duplicate key" in done.stderr
    assert count(db, table) == 0


def test_committed_work_stays_and_later_work_does_not(
        stack: StackUnderTest, db: Db, table: str) -> None:
    """A committed transaction stays; an error after it stops the script (ON_ERROR_STOP)."""
    done = stack.cli("query", "-c", f"begin; insert into {table} values (1); commit; "
                                    f"insert into {table} values (2); select 1/0; "
                                    f"insert into {table} values (3);")
    assert done.returncode == 1 and "division by zero" in done.stderr
    assert count(db, table) == 2


async def test_session_keeps_the_users_transaction(
        stack: StackUnderTest, db: Db, table: str) -> None:
    """In the studio's session, BEGIN opens the user's transaction (a streaming SELECT inside
    it does not end it), an error aborts it until ROLLBACK, and nothing is committed."""
    session = QuerySession(stack.runtime.postgres(read_only=False))
    try:
        for text in ("begin", f"insert into {table} values (1)", f"select * from {table}"):
            [e async for e in session.run_all(text)]
        assert session.transaction_state == "open"
        with pytest.raises(QueryError):
            [e async for e in session.run_all(f"insert into {table} values (1)")]
        assert session.transaction_state == "aborted"
        with pytest.raises(QueryError) as caught:
            [e async for e in session.run_all("select 1")]
        assert caught.value.sqlstate == "25P02"  # in failed transaction
        [e async for e in session.run_all("rollback")]
        assert session.transaction_state == "none"
        assert count(db, table) == 0
    finally:
        await session.close()


async def test_a_streaming_result_is_not_the_users_transaction(
        stack: StackUnderTest, db: Db, table: str) -> None:
    """A half-read result holds a transaction of its own, which is not counted as the
    user's, and closing the result releases it (another session's ALTER then goes through)."""
    db.execute(f"insert into {table} select generate_series(1, 5000)")
    session = QuerySession(stack.runtime.postgres(read_only=False))
    try:
        events = session.run_all(f"select * from {table}", fetch_size=100)
        await anext(events)
        await anext(events)
        assert session.holds_result and not session.in_transaction
        await events.aclose()  # type: ignore[attr-defined]
        assert not session.holds_result
        db.execute("set lock_timeout = '2s'")
        db.execute(f"alter table {table} add column note text")
    finally:
        await session.close()
