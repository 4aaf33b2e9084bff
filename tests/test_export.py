"""Exporting a whole result by streaming COPY, against the real Postgres."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.export import export_result
from crestfall_tui.services.query_session import QueryError, QuerySession, RowBatch
from crestfall_tui.services.sql_text import split_statements
from tests.drivers import open_query, until
from tests.helpers import StackUnderTest

TRICKY = ("select null::text as n, ''::text as e, E'back\\\\slash \"q\" \\n line' as t, "
          "'ünï' as u, '{\"k\": [1]}'::jsonb as j")


@pytest.fixture
async def session(stack: StackUnderTest) -> AsyncIterator[QuerySession]:
    opened = QuerySession(PostgresClient(stack.runtime.db_url))
    yield opened
    await opened.close()


async def test_csv_keeps_nulls_quotes_and_newlines(session: QuerySession,
                                                   tmp_path: Path) -> None:
    """CSV from COPY: NULL empty, '' quoted, quotes, backslashes and newlines intact."""
    path = tmp_path / "out.csv"
    report = await export_result(session, split_statements(TRICKY)[0], path, lambda b, r: None)
    text = path.read_text()
    assert text.splitlines()[1].startswith(',"",')
    rows = list(csv.reader(path.open(newline="")))
    assert rows[1][2] == 'back\\slash "q" \n line' and rows[1][3] == "ünï"
    assert report.bytes_written == len(text.encode())
    assert report.rows == 1  # one COPY message a row: a newline in a field is no new row


async def test_jsonl_is_valid_json_per_row(session: QuerySession, tmp_path: Path) -> None:
    """JSON Lines: one object a row, typed, with escapes round-tripping exactly."""
    path = tmp_path / "out.jsonl"
    report = await export_result(session, split_statements(TRICKY)[0], path, lambda b, r: None)
    row = json.loads(path.read_text().splitlines()[0])
    assert row == {"n": None, "e": "", "t": 'back\\slash "q" \n line', "u": "ünï",
                   "j": {"k": [1]}}
    assert report.rows == 1
    # A json value keeps its own whitespace (a newline, a tab) inside the object: COPY
    # escapes them, and the export gives them back.
    raw = split_statements(r"""select E'{"a":\n\t1, "b\\\\c": "\\\\"}'::json as j""")[0]
    await export_result(session, raw, path, lambda b, r: None)
    assert path.read_text() == '{"j":{"a":\n\t1, "b\\\\c": "\\\\"}}\n'
    assert json.loads(path.read_text()) == {"j": {"a": 1, "b\\c": "\\"}}


async def test_large_export_streams_with_progress(session: QuerySession,
                                                  tmp_path: Path) -> None:
    """300,000 rows stream to the file, progress reported on the way."""
    seen: list[tuple[int, int | None]] = []
    path = tmp_path / "big.jsonl"
    statement = split_statements("select g, md5(g::text) from generate_series(1, 300000) g")[0]
    report = await export_result(session, statement, path, lambda b, r: seen.append((b, r)))
    assert report.rows == 300000 and seen[-1] == (report.bytes_written, 300000)
    assert path.read_text().count("\n") == 300000


async def test_failed_export_keeps_the_old_file(session: QuerySession, tmp_path: Path) -> None:
    """An error mid-export leaves an existing file untouched and no partial file behind."""
    path = tmp_path / "keep.csv"
    path.write_text("precious\n")
    statement = split_statements("select 1 / (g - 5000) from generate_series(1, 10000) g")[0]
    with pytest.raises(QueryError, match="division by zero"):
        await export_result(session, statement, path, lambda b, r: None)
    assert path.read_text() == "precious\n"
    assert not (tmp_path / "keep.csv.part").exists()
    # The session goes on: its next statement runs on the same connection.
    events = [e async for e in session.run(split_statements("select 41 + 1")[0])]
    assert any(isinstance(e, RowBatch) and e.rows == [(42,)] for e in events)
    with pytest.raises(CrestfallError, match=".csv or .jsonl"):
        await export_result(session, split_statements("select 1")[0], tmp_path / "x.xls",
                            lambda b, r: None)
    with pytest.raises(CrestfallError, match="works on queries"):
        await export_result(session, split_statements("create table z (v int)")[0],
                            tmp_path / "z.csv", lambda b, r: None)


async def test_export_by_keys(stack: StackUnderTest, tmp_path: Path) -> None:
    """ctrl+s asks for a file name; enter writes the whole result there."""
    app = CrestfallApp(stack.stack, stack.runtime)
    target = tmp_path / "keys.csv"
    async with app.run_test(size=(120, 36)) as pilot:
        await export_by_keys(pilot, app, stack, "select g from generate_series(1, 1000) g",
                             target)
        await until(pilot, lambda: target.exists())
    assert target.read_text().splitlines()[-1] == "1000"


async def test_cancelled_export_stops_on_the_server(stack: StackUnderTest,
                                                    session: QuerySession,
                                                    tmp_path: Path) -> None:
    """Cancelling an export (escape, or the worker cancelled) stops the COPY on the server,
    leaves no file, and the session's connection stays usable."""
    import asyncio

    import psycopg

    path = tmp_path / "slow.csv"
    statement = split_statements(
        "select g, pg_sleep(0.001) as slow_export from generate_series(1, 100000) g")[0]
    task = asyncio.ensure_future(export_result(session, statement, path, lambda b, r: None))
    await asyncio.sleep(1.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not path.exists() and not (tmp_path / "slow.csv.part").exists()
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        active = conn.execute("select count(*) from pg_stat_activity where state = 'active' "
                              "and query like '%slow_export%' and pid <> pg_backend_pid()")
        assert active.fetchone() == (0,)
    events = [e async for e in session.run(split_statements("select 'still here'")[0])]
    assert any(isinstance(e, RowBatch) and e.rows == [("still here",)] for e in events)


async def test_escape_cancels_an_export_on_screen(stack: StackUnderTest, tmp_path: Path) -> None:
    """escape during ctrl+s's export: the server stops, the log says it was cancelled, no
    file is left, and the next run works."""
    from tests.drivers import current_grid, log_text

    app = CrestfallApp(stack.stack, stack.runtime)
    target = tmp_path / "cancelled.csv"
    async with app.run_test(size=(120, 36)) as pilot:
        await export_by_keys(pilot, app, stack,
                             "select g, pg_sleep(0.001) from generate_series(1, 100000) g",
                             target)
        await until(pilot, lambda: app.screen.results.status.startswith("exporting"))
        await pilot.press("escape")
        await until(pilot, lambda: "canceling statement due to user request" in log_text(app))
        assert not target.exists() and not (tmp_path / "cancelled.csv.part").exists()
        await until(pilot, lambda: not app.screen.running)
        app.screen.query_one(TextArea).text = "select 'after' as a"
        await pilot.press("ctrl+j")
        await until(pilot, lambda: current_grid(app).rows == [("after",)])


async def export_by_keys(pilot: Pilot[None], app: CrestfallApp, stack: StackUnderTest,
                         query: str, target: Path) -> None:
    """The query in the editor, ctrl+s, the file name, enter: the export starts."""
    await open_query(stack, app, query)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: bool(app.screen.query(Input)))
    app.screen.query_one(Input).value = str(target)
    await pilot.press("enter")
