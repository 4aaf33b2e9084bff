"""Exporting a whole result by streaming COPY, against the real Postgres."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Input

from crestfall_tui.app import CrestfallApp
from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.export import export_result
from crestfall_tui.services.query_session import QueryError, QuerySession
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


async def test_jsonl_is_valid_json_per_row(session: QuerySession, tmp_path: Path) -> None:
    """JSON Lines: one object a row, typed, with escapes round-tripping exactly."""
    path = tmp_path / "out.jsonl"
    report = await export_result(session, split_statements(TRICKY)[0], path, lambda b, r: None)
    row = json.loads(path.read_text().splitlines()[0])
    assert row == {"n": None, "e": "", "t": 'back\\slash "q" \n line', "u": "ünï",
                   "j": {"k": [1]}}
    assert report.rows == 1


async def test_large_export_streams_with_progress(session: QuerySession,
                                                  tmp_path: Path) -> None:
    """300,000 rows stream to the file, progress reported on the way."""
    seen: list[tuple[int, int | None]] = []
    path = tmp_path / "big.jsonl"
    statement = split_statements("select g, md5(g::text) from generate_series(1, 300000) g")[0]
    report = await export_result(session, statement, path, lambda b, r: seen.append((b, r)))
    assert report.rows == 300000 and len(seen) > 100
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
        await open_query(stack, app, "select g from generate_series(1, 1000) g")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: target.exists())
    assert target.read_text().splitlines()[-1] == "1000"
