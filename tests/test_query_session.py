"""Running SQL against the real Postgres: streaming, cancel, errors, notices."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.services.query_session import (
    QueryError,
    QuerySession,
    ResultStarted,
    RowBatch,
    StatementDone,
)
from crestfall_tui.services.sql_text import split_statements
from tests.helpers import StackUnderTest


@pytest.fixture
async def session(stack: StackUnderTest) -> AsyncIterator[QuerySession]:
    opened = QuerySession(PostgresClient(stack.runtime.db_url))
    yield opened
    await opened.close()


async def collect(session: QuerySession, buffer: str) -> list[object]:
    return [event async for event in session.run_all(buffer)]


async def test_first_rows_arrive_before_the_query_finishes(session: QuerySession) -> None:
    """A slow query's first batch comes after a fraction of its total time (server cursor)."""
    statement = split_statements(
        "select g, pg_sleep(0.01) from generate_series(1, 400) g")[0]
    started = time.monotonic()
    events = session.run(statement, fetch_size=20)
    assert isinstance(await anext(events), ResultStarted)
    first = await anext(events)
    elapsed = time.monotonic() - started
    assert isinstance(first, RowBatch) and len(first.rows) == 20
    assert elapsed < 2.0, elapsed  # the whole query takes over 4 s
    await events.aclose()
    assert (await collect(session, "select 1 as still_usable"))[1] == RowBatch([(1,)])


async def test_cancel_keeps_the_connection(session: QuerySession) -> None:
    """Cancelling a running statement ends it with 57014; the next statement runs."""
    async def slow() -> list[object]:
        return await collect(session, "select pg_sleep(30)")

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.5)
    await session.cancel()
    with pytest.raises(QueryError) as caught:
        await asyncio.wait_for(task, 10)
    assert caught.value.sqlstate == "57014"
    events = await collect(session, "select 2")
    assert RowBatch([(2,)]) in events


async def test_several_statements_in_order(session: QuerySession) -> None:
    """Each statement yields its own result or command tag, in order."""
    events = await collect(session, """
        select 1 as a; select 'x' as b, null::text as c, '' as d;
        create temp table scratch (v int); insert into scratch values (1), (2);
        update scratch set v = v + 1""")
    done = [e for e in events if isinstance(e, StatementDone)]
    assert [d.status for d in done] == ["SELECT 1", "SELECT 1", "CREATE TABLE", "INSERT 0 2",
                                        "UPDATE 2"]
    assert done[3].rowcount == 2
    started = [e for e in events if isinstance(e, ResultStarted)]
    assert [c.name for c in started[1].columns] == ["b", "c", "d"]
    assert [c.type_name for c in started[0].columns] == ["integer"]
    assert RowBatch([("x", None, "")]) in events  # NULL stays distinct from ''


@pytest.mark.parametrize("buffer", [
    "select 1;\nselect relnam from pg_class",          # streamed: behind DECLARE
    "select 1;\ninsert into nowhere_at_all values (1)",  # plain
])
async def test_errors_carry_message_hint_and_position(session: QuerySession,
                                                      buffer: str) -> None:
    """The error points at the offending word in the buffer, with Postgres's hint."""
    with pytest.raises(QueryError) as caught:
        await collect(session, buffer)
    error = caught.value
    word = "relnam" if "relnam" in buffer else "nowhere_at_all"
    assert error.buffer_position == buffer.index(word)
    if word == "relnam":
        assert error.hint and "relname" in error.hint
    assert error.sqlstate in ("42703", "42P01")
    assert RowBatch([(3,)]) in await collect(session, "select 3")


async def test_notices_are_kept(session: QuerySession) -> None:
    """RAISE NOTICE from the server shows up in the session's notices."""
    await collect(session, "do $$ begin raise notice 'hello from the server'; end $$")
    assert any("hello from the server" in n for n in session.notices)


async def test_read_only_session_refuses_writes(stack: StackUnderTest) -> None:
    """On a read-only stack a write fails at the database (25006)."""
    session = QuerySession(stack.runtime.postgres(read_only=True))
    try:
        with pytest.raises(QueryError) as caught:
            await collect(session, "create table nope (v int)")
        assert caught.value.sqlstate == "25006"
    finally:
        await session.close()


async def test_a_query_run_takes_batches_and_closes(session: QuerySession) -> None:
    """QueryRun hands out a statement's events a few batches at a time; starting the next
    statement closes the result before it (its transaction ends)."""
    from crestfall_tui.services.query_run import QueryRun

    run = QueryRun(session)
    await run.start(split_statements("select g from generate_series(1, 5000) g")[0])
    first = [e async for e in run.take(2)]
    assert isinstance(first[0], ResultStarted) and len(first) == 3
    assert run.reading and session.holds_result and run.idle_for() < 5
    await run.start(split_statements("select 1")[0])
    assert not session.holds_result
    rest = [e async for e in run.take(None)]
    assert rest[-1].status == "SELECT 1"  # type: ignore[union-attr]
    assert not run.reading


async def test_watch_says_when_an_idle_result_should_be_released(
        session: QuerySession) -> None:
    """A half-read result left alone past idle_release_s is to be released; one being read,
    or none at all, is not."""
    import asyncio

    from crestfall_tui.services.query_run import QueryRun, Watch

    session.idle_release_s = 0.2
    run = QueryRun(session)
    assert run.watch() == Watch.NOTHING
    await run.start(split_statements("select g from generate_series(1, 5000) g")[0])
    [e async for e in run.take(1)]
    assert run.watch() == Watch.NOTHING
    await asyncio.sleep(0.3)
    assert run.watch() == Watch.RELEASE
    await run.close()
    assert run.watch() == Watch.NOTHING and not session.holds_result


async def test_asking_for_the_connection_twice_at_once_opens_one(
        session: QuerySession) -> None:
    """Two callers asking together (a warm-up and a first run) share one connection, so a
    transaction begun on it is never replaced by a fresh one."""
    import asyncio

    first, second = await asyncio.gather(session.connection(), session.connection())
    assert first is second
