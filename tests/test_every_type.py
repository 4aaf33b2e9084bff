"""Every built-in type, arrays of them, an enum, domains (one named in non-ASCII letters),
ranges, infinities and NaN: the Query grid, the Tables grid and every output format of the
headless `query` show what Postgres's own text output says, and name each type as Postgres
does."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql

from crestfall_tui.app import CrestfallApp
from tests.drivers import current_grid, log_text, open_query, open_table, until
from tests.helpers import StackUnderTest

COLUMNS = [
    ("small", "smallint", "-32768"), ("int", "integer", "2147483647"),
    ("big", "bigint", "-9223372036854775808"),
    ("num", "numeric(30,10)", "12345678901234567890.0123456789"),
    ("num_nan", "numeric", "'NaN'"), ("num_inf", "numeric", "'-Infinity'"),
    ("real", "real", "0.1"), ("double", "double precision", "1e300"),
    ("double_inf", "double precision", "'Infinity'"), ("money", "money", "12.34"),
    ("text", "text", "E'tab\\there, \"quoted\", ünï'"), ("varchar", "varchar(8)", "'short'"),
    ("char", "character(4)", "'ab'"), ("bytes", "bytea", "'\\x00ff10'"),
    ("yes", "boolean", "true"), ("day", "date", "'2024-02-29'"),
    ("forever", "date", "'infinity'"), ("bc", "date", "'0044-03-15 BC'"),
    ("clock", "time", "'24:00:00'"), ("clock_tz", "time with time zone", "'04:05:06+02'"),
    ("stamp", "timestamp", "'2026-11-28 01:02:03.456789'"),
    ("stamp_tz", "timestamp with time zone", "'-infinity'"),
    ("span", "interval", "'1 year 2 mons 3 days 04:05:06'"),
    ("month", "interval", "'1 mon'"), ("id", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
    ("doc", "json", "'{\"n\": 1.0, \"s\": \"x\"}'"), ("docb", "jsonb", "'{\"n\": 1e400}'"),
    ("doc_null", "jsonb", "'null'"), ("markup", "xml", "'<a b=\"c\">d</a>'"),
    ("ip", "inet", "'192.168.0.1/24'"), ("net", "cidr", "'10.0.0.0/8'"),
    ("mac", "macaddr", "'08:00:2b:01:02:03'"), ("mac8", "macaddr8", "'08:00:2b:01:02:03:04:05'"),
    ("pt", "point", "'(1,2)'"), ("ln", "line", "'{1,-1,0}'"), ("seg", "lseg", "'[(0,0),(1,1)]'"),
    ("bx", "box", "'(1,1),(0,0)'"), ("pth", "path", "'[(0,0),(1,1),(2,0)]'"),
    ("poly", "polygon", "'((0,0),(1,1),(1,0))'"), ("circ", "circle", "'<(0,0),2>'"),
    ("bits", "bit(4)", "B'1010'"), ("vbits", "bit varying", "B'101'"),
    ("words", "tsvector", "'a fat cat'"), ("search", "tsquery", "'fat & cat'"),
    ("ints", "int4range", "'[1,5)'"), ("nums", "numrange", "'(1.5,2.5]'"),
    ("when", "tstzrange", "'[2026-01-01 00:00+00,infinity)'"), ("days", "daterange", "'empty'"),
    ("multi", "int4multirange", "'{[1,3), [5,7)}'"), ("o", "oid", "1259"),
    ("rel", "regclass", "'pg_class'"), ("lsn", "pg_lsn", "'16/B374D848'"),
    ("nm", "name", "'a name'"), ("one", "\"char\"", "'x'"),
    ("feeling", "mood", "'busy'"), ("label", "label", "'a domain'"),
    ("chief", "ĉefo", "'non-ASCII domain'"),
    ("int_list", "integer[]", "'{1,NULL,3}'"), ("text_list", "text[]", "'{a,\"b c\",NULL,\"\"}'"),
    ("date_list", "date[]", "'{2024-01-01,infinity}'"),
    ("doc_list", "jsonb[]", "array['{\"a\": 1}'::jsonb, 'null']"),
    ("mood_list", "mood[]", "'{calm,busy}'"), ("num_list", "numeric[]", "'{1.50,NaN}'"),
    ("matrix", "integer[]", "'{{1,2},{3,4}}'"), ("range_list", "int4range[]", "'{\"[1,2)\"}'"),
]


@pytest.fixture
def every_type(db: psycopg.Connection[tuple[object, ...]], schema: str) -> Iterator[str]:
    """A table `every` (an id, then one column of each type) with one row of values and
    one row of NULLs; its schema's name."""
    db.execute("create type mood as enum ('calm', 'busy')")
    db.execute("create domain label as text check (value <> '')")
    db.execute('create domain "ĉefo" as text')
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
        for name, kind, _ in COLUMNS)
    db.execute(sql.SQL("create table every (row_id int primary key, {})").format(columns))
    db.execute(sql.SQL("insert into every values (1, {})").format(
        sql.SQL(", ").join(sql.SQL(value) for _, _, value in COLUMNS)))
    db.execute("insert into every (row_id) values (2)")
    db.execute("analyze every")
    yield schema


def postgres_text(stack: StackUnderTest, schema: str) -> list[tuple[Any, ...]]:
    """Each row as psql prints it unaligned (Postgres's own text output of each value), the
    id first; None for NULL."""
    done = subprocess.run(
        ["psql", stack.conninfo, "-XAt", "-F", "\x1f", "-R", "\x1e", "-P", "null=\x02NULL",
         "-c", f'select * from "{schema}".every order by row_id'],
        capture_output=True, text=True, check=True)
    return [tuple(None if field == "\x02NULL" else field for field in record.split("\x1f"))
            for record in done.stdout.rstrip("\n").split("\x1e")]


def postgres_types(stack: StackUnderTest, schema: str) -> list[str]:
    """Each column's type as Postgres names it (format_type, without a type modifier: a
    query's result carries none; qualified where the default search path does not see it)."""
    with psycopg.connect(stack.conninfo) as conn:
        return [str(row[0]) for row in conn.execute(
            "select format_type(atttypid, null) from pg_attribute where attrelid = "
            "%s::regclass and attnum > 0 order by attnum", (f'"{schema}".every',)).fetchall()]


async def test_query_and_tables_grids_show_postgres_text(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        every_type: str) -> None:
    expected = postgres_text(stack, every_type)
    types = postgres_types(stack, every_type)
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(200, 50)) as pilot:
        await open_query(stack, app, f"select * from {every_type}.every order by row_id")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: "SELECT 2" in log_text(app))
        grid = current_grid(app)
        for got, want in zip(grid.rows, expected, strict=True):
            for name, shown, text in zip(["row_id", *(c[0] for c in COLUMNS)], got, want,
                                         strict=True):
                assert shown == text, name
        assert grid.types == types
        table = await open_table(pilot, app, f"{every_type}.every")
        assert [tuple(row) for row in table.rows] == expected


def test_every_output_format_agrees_with_postgres(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        every_type: str) -> None:
    """csv: Postgres's text (NULL an empty field); json: valid, strings equal to Postgres's
    text, numbers equal to it as decimals, booleans, json as JSON, arrays as arrays;
    table: every short value as it is."""
    names = ["row_id", *(c[0] for c in COLUMNS)]
    expected = [dict(zip(names, row, strict=True)) for row in postgres_text(stack, every_type)]
    query = f"select * from {every_type}.every order by row_id"

    done = stack.cli("query", "--format", "csv", "-c", query)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    for got, want in zip(rows, expected, strict=True):
        assert got == {name: "" if value is None else value for name, value in want.items()}

    done = stack.cli("query", "--format", "json", "-c", query)
    assert done.returncode == 0, done.stderr
    for line, want in zip(done.stdout.splitlines(), expected, strict=True):
        got = json.loads(line, parse_float=Decimal, parse_constant=_not_json)
        for name, text in want.items():
            _same_value(name, got[name], text)

    done = stack.cli("query", "-c", query)
    assert done.returncode == 0, done.stderr
    for name, text in expected[0].items():
        if text is not None and len(text) < 30 and "\t" not in text:
            assert text in done.stdout, name


def _same_value(name: str, value: Any, text: str | None) -> None:
    if text is None or (name == "doc_null" and text == "null"):
        # SQL NULL; and a JSON null inside a jsonb value, which row_to_json writes the same
        assert value is None, name
    elif isinstance(value, bool):
        assert text == ("t" if value else "f"), name
    elif isinstance(value, int | Decimal):
        assert Decimal(value) == Decimal(text), name
    elif isinstance(value, dict):
        assert value == json.loads(text, parse_float=Decimal), name
    elif isinstance(value, list):
        assert text.startswith("{"), name  # an array (its elements: test_query_command)
    else:
        assert value == text, name


def _not_json(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")
