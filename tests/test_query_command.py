"""`crestfall-tui query`, the real binary against the real stack."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import psycopg

from tests.helpers import BINARY, StackUnderTest, eventually, scratch_database


def test_table_output_shows_null_and_row_count(stack: StackUnderTest) -> None:
    """The default table shows NULL apart from '' and ends with the row count."""
    done = stack.cli("query", "-c", "select 1 as a, null::text as n, ''::text as e, true as b")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [name.strip() for name in lines[0].split("|")] == ["a", "n", "e", "b"]
    assert [cell.strip() for cell in lines[2].split("|")] == ["1", "NULL", "", "t"]
    assert lines[-1] == "(1 row)"


def test_csv_streams_through_copy(stack: StackUnderTest) -> None:
    """CSV keeps NULL and '' apart (as COPY writes them) and carries a large result."""
    done = stack.cli("query", "--format", "csv", "-c",
                     "select null::text as n, ''::text as e, 'a,b' as q; "
                     "select g from generate_series(1, 200000) g")
    assert done.returncode == 0, done.stderr
    first, rest = done.stdout.split("g\n", 1)
    assert first.splitlines() == ["n,e,q", ',"","a,b"']
    numbers = rest.splitlines()
    assert len(numbers) == 200000 and numbers[-1] == "200000"


def test_json_lines_keep_types(stack: StackUnderTest) -> None:
    """JSON output is one object a row, numbers, null and json values typed."""
    done = stack.cli("query", "--format", "json", "-c",
                     "select 1 as a, null::text as n, '{\"k\": [1, 2]}'::jsonb as j, "
                     "1.50::numeric as x, '2026-01-02'::date as d")
    row = json.loads(done.stdout.splitlines()[0], parse_float=Decimal)
    assert row == {"a": 1, "n": None, "j": {"k": [1, 2]}, "x": Decimal("1.50"),
                   "d": "2026-01-02"}
    assert '"x":1.50' in done.stdout  # exactly as Postgres printed it


LOSSLESS = """select
  12345678901234567890.123456789012345678901234567890::numeric as big,
  '{"n": 12345678901234567890.12345678901234567890, "z": null}'::jsonb as doc,
  '{"n": 1.0}'::json as raw_json,
  'NaN'::numeric as nan, 'Infinity'::float8 as inf, '-Infinity'::float4 as ninf,
  1e300::float8 as huge_float, 0.1::float4 as small_float,
  '1 mon'::interval as month, '30 days'::interval as days,
  '178000000 years'::interval as huge_interval,
  'infinity'::date as inf_date, '-infinity'::timestamptz as ninf_ts,
  '0044-03-15 BC'::date as bc_date, '24:00:00'::time as midnight,
  true as yes, false as no,
  array[1, null, 3] as ints, array['a"b', 'c,d', null, 'NULL', ''] as texts,
  array[[1.5, 2], [3, 4]]::numeric[] as matrix, '{}'::int[] as empty,
  array['{"a": 1}'::jsonb, null] as docs, '\\x00ff'::bytea as bin,
  '[1,5)'::int4range as range, 'a''b'::text as quote"""


def test_json_output_is_valid_and_lossless(stack: StackUnderTest) -> None:
    """Every value is valid JSON and exact: numerics and jsonb numbers digit for digit,
    intervals and dates as Postgres prints them, NaN and infinities as strings, arrays as
    arrays (the same for a statement that cannot stream, such as RETURNING)."""
    expected_text = stack.cli("query", "--format", "csv", "-c", LOSSLESS)
    assert expected_text.returncode == 0, expected_text.stderr
    as_text = next(csv.DictReader(io.StringIO(expected_text.stdout)))
    done = stack.cli("query", "--format", "json", "-c",
                     LOSSLESS + "; create temp table r (v numeric, i interval); "
                     "insert into r values (0.10, '1 year 2 mons 3 days 04:05:06') "
                     "returning v, i")
    assert done.returncode == 0, done.stderr
    first, returned = done.stdout.splitlines()
    row = json.loads(first, parse_float=Decimal, parse_constant=_no_constants)
    assert row["big"] == Decimal("12345678901234567890.123456789012345678901234567890")
    assert row["doc"] == {"n": Decimal("12345678901234567890.12345678901234567890"), "z": None}
    assert '"raw_json":{"n": 1.0}' in first
    assert (row["nan"], row["inf"], row["ninf"]) == ("NaN", "Infinity", "-Infinity")
    assert row["huge_float"] == Decimal("1e+300") and row["small_float"] == Decimal("0.1")
    for name in ("month", "days", "huge_interval", "inf_date", "ninf_ts", "bc_date",
                 "midnight", "bin", "range", "quote"):
        assert row[name] == as_text[name], name
    assert (row["month"], row["days"]) == ("1 mon", "30 days")
    assert (row["yes"], row["no"]) == (True, False)
    assert row["ints"] == [1, None, 3]
    assert row["texts"] == ['a"b', "c,d", None, "NULL", ""]
    assert row["matrix"] == [[Decimal("1.5"), 2], [3, 4]] and row["empty"] == []
    assert row["docs"] == [{"a": 1}, None]
    assert json.loads(returned, parse_float=Decimal) == {
        "v": Decimal("0.10"), "i": "1 year 2 mons 3 days 04:05:06"}


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_error_exits_1_with_position_and_hint(stack: StackUnderTest) -> None:
    """An SQL error prints psql's shape (ERROR, LINE with a caret, HINT) and exits 1."""
    done = stack.cli("query", "-c", "select 1 as ok;\nselect relnam from pg_class")
    assert done.returncode == 1
    assert "(1 row)" in done.stdout
    lines = done.stderr.splitlines()
    assert lines[0] == 'ERROR:  column "relnam" does not exist'
    assert lines[1] == "LINE 2: select relnam from pg_class"
    assert lines[2] == " " * len("LINE 2: select ") + "^"
    assert any(line.startswith("HINT:") and "relname" in line for line in lines)


def test_sql_from_a_file_and_from_stdin(stack: StackUnderTest, tmp_path: Path) -> None:
    """-f FILE and -f - read the SQL; commands without rows report their tag."""
    script = tmp_path / "script.sql"
    script.write_text("create temp table t (v int);\ninsert into t values (1), (2);\n")
    done = stack.cli("query", "-f", str(script))
    assert done.returncode == 0 and done.stderr.splitlines() == ["CREATE TABLE", "INSERT 0 2"]
    piped = subprocess.run(
        [str(BINARY), "query", "--stack", "local", "--config", str(stack.config_path),
         "--format", "csv", "-f", "-"], input="select 41 + 1 as answer", capture_output=True,
        text=True, timeout=60, check=False)
    assert list(csv.reader(io.StringIO(piped.stdout))) == [["answer"], ["42"]]
    missing = stack.cli("query", "-f", str(tmp_path / "absent.sql"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_first_rows_print_before_the_query_ends(stack: StackUnderTest) -> None:
    """Rows reach stdout while a slow query is still producing them."""
    started = time.monotonic()
    process = subprocess.Popen(
        [str(BINARY), "query", "--stack", "local", "--config", str(stack.config_path), "-c",
         "select g, pg_sleep(0.005) from generate_series(1, 1500) g"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    header = process.stdout.readline()
    first_rows_after = time.monotonic() - started
    process.communicate(timeout=60)
    total = time.monotonic() - started
    assert header.startswith("g ")
    assert first_rows_after < total - 3, (first_rows_after, total)  # the query takes ~7.5 s


def test_read_only_stack_refuses_writes(stack: StackUnderTest, tmp_path: Path) -> None:
    """read_only = true: a write fails at the database, exit 1."""
    config = tmp_path / "ro.toml"
    config.write_text(stack.config_path.read_text().replace(
        'runtime = "native"', 'runtime = "native"\nread_only = true'))
    done = subprocess.run(
        [str(BINARY), "query", "--stack", "local", "--config", str(config), "-c",
         "create table should_not_exist (v int)"],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "read-only transaction" in done.stderr


def test_database_down_is_one_clear_line(tmp_path: Path) -> None:
    """No Postgres at the stack's address: one message naming host and port, exit 1; a
    stack never brought up says so instead."""
    from crestfall_tui.stack.processes import free_port
    from tests.helpers import make_stack, run_cli

    port = free_port()
    config = tmp_path / "remote.toml"
    config.write_text('[stacks.gone]\nruntime = "remote"\n[stacks.gone.remote]\n'
                      f'db_url = "postgresql://postgres:pw@127.0.0.1:{port}/postgres"\n')
    done = run_cli("query", "--stack", "gone", "--config", str(config), "-c", "select 1")
    assert done.returncode == 1
    assert f"refused the connection on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    idle = make_stack("idle")
    try:
        done = idle.cli("query", "-c", "select 1")
        assert done.returncode == 1 and "has not been created yet" in done.stderr
        assert not (idle.root / "data").exists()  # asking wrote nothing
    finally:
        idle.remove()


def test_a_wrong_password_is_called_one(stack: StackUnderTest, tmp_path: Path) -> None:
    """A password the server refuses is named as such, not as a stack that is down."""
    from tests.helpers import run_cli

    config = tmp_path / "wrong.toml"
    config.write_text('[stacks.wrong]\nruntime = "remote"\n[stacks.wrong.remote]\n'
                      f'db_url = "postgresql://postgres:wrong@127.0.0.1:{stack.stack.ports.db}'
                      '/postgres"\n')
    done = run_cli("query", "--stack", "wrong", "--config", str(config), "-c", "select 1")
    assert done.returncode == 1
    assert "refused the password of 'postgres'" in done.stderr
    assert "is the stack up" not in done.stderr and "wrong" not in done.stderr.split("(")[0]


def test_an_error_without_a_position_names_its_statement(stack: StackUnderTest) -> None:
    """An error Postgres gives no position for says which statement (number, line) failed."""
    done = stack.cli("query", "-c", "select 1;\n\nselect 1/0 as boom;\nselect 3")
    assert done.returncode == 1
    assert done.stderr.splitlines()[:2] == [
        "ERROR:  division by zero", "STATEMENT 2 (line 3): select 1/0 as boom"]


def test_table_output_says_when_it_cut_a_value(stack: StackUnderTest) -> None:
    """A value wider than the table's column is cut with … and a note on stderr says so."""
    done = stack.cli("query", "-c", "select repeat('x', 60) as wide")
    assert done.returncode == 0
    assert "…" in done.stdout and "were cut" in done.stderr
    assert "were cut" not in stack.cli("query", "-c", "select 'short'").stderr


def test_invalid_utf8_names_the_byte(stack: StackUnderTest, tmp_path: Path) -> None:
    """A script with a byte that is not UTF-8: one line naming its offset and line, exit 2;
    the statements before it ran, as psql runs them."""
    script = tmp_path / "latin1.sql"
    script.write_bytes(b"create temp table t (v text);\nselect 'ok';\nselect 'caf\xe9';\n")
    done = stack.cli("query", "-f", str(script))
    assert done.returncode == 2
    offset = script.read_bytes().index(b"\xe9")
    assert f"byte {offset} (0xe9, line 3) is not valid UTF-8" in done.stderr
    assert "(1 row)" in done.stdout and "Traceback" not in done.stderr
    piped = subprocess.run(
        [str(BINARY), "query", "--stack", "local", "--config", str(stack.config_path),
         "-f", "-"], input=b"select 1;\n\xff\n", capture_output=True, timeout=60, check=False)
    assert piped.returncode == 2 and b"standard input is not UTF-8 text: byte 10" in piped.stderr


def test_a_closed_pipe_ends_quietly(stack: StackUnderTest) -> None:
    """`| head -1` on a long result: exit 0, nothing on stderr, the query gone from the
    server."""
    done = subprocess.run(
        f"'{BINARY}' query --stack local --config '{stack.config_path}' --format csv "
        "-c 'select g, pg_sleep(0.0001) from generate_series(1, 2000000) g' | head -1; "
        "echo \"rc=${PIPESTATUS[0]}\"", shell=True, executable="/bin/bash",
        capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.splitlines() == ["g,pg_sleep", "rc=0"], done.stdout
    assert done.stderr == ""
    assert eventually(lambda: not _running(stack, "pg_sleep(0.0001)"), 10)


def test_ctrl_c_cancels_a_streaming_query_on_the_server(stack: StackUnderTest) -> None:
    """SIGINT while a streaming SELECT (or its CSV COPY), or a statement that returns no
    rows, runs: the server stops running it, exit 130, and the script runs nothing more."""
    for query, output in (("select pg_sleep(60) as slept", "table"),
                          ("do $$ begin perform pg_sleep(60); end $$; create table "
                           "after_ctrl_c ()", "table"),
                          ("select g, pg_sleep(0.01) as s from generate_series(1, 100000) g",
                           "table"),
                          ("select g, pg_sleep(0.01) as c from generate_series(1, 100000) g",
                           "csv")):
        process = subprocess.Popen(
            [str(BINARY), "query", "--stack", "local", "--config", str(stack.config_path),
             "--format", output, "-c", query], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        running = query.split(";")[0]
        assert eventually(lambda q=running: _running(stack, q), 20)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130
        assert eventually(lambda q=running: not _running(stack, q), 5), query
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        assert conn.execute("select to_regclass('after_ctrl_c')").fetchone() == (None,)


def test_copy_to_stdout_in_a_script_is_refused_clearly(stack: StackUnderTest) -> None:
    """COPY ... TO STDOUT as a statement: one error, exit 1, and the statements before it
    ran (the rows of a query go out with --format csv)."""
    done = stack.cli("query", "-c", "create table if not exists copy_refused (a int); "
                     "insert into copy_refused values (1); copy copy_refused to stdout; "
                     "insert into copy_refused values (2)")
    assert done.returncode == 1, done.stderr
    assert "cannot run as a statement of a script" in done.stderr
    assert "Traceback" not in done.stderr
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        assert conn.execute("select count(*), max(a) from copy_refused").fetchone() == (1, 1)
        conn.execute("drop table copy_refused")


def test_a_pg_dump_plain_script_restores_as_psql_restores_it(stack: StackUnderTest,
                                                              tmp_path: Path) -> None:
    """pg_dump's plain format (COPY ... FROM stdin with its rows inline, ended by `\\.`):
    60,000 rows with tabs, newlines, backslashes, NULLs and other scripts' letters restore
    through `query -f` into an empty database exactly as they were."""
    dump = tmp_path / "dump.sql"
    checksum = ("select count(*), md5(string_agg(t::text, '|' order by id)) from "
                "public.kept t")
    with scratch_database(
            stack, "dump_source",
            "create table public.kept (id int primary key, body text, note text, at "
            "timestamptz, doc jsonb)",
            "insert into public.kept select g, 'tab' || chr(9) || g || chr(10) || 'line' "
            "|| chr(92) || 'back', case when g % 7 = 0 then null else 'Grüße ' || g || "
            "' 東京 ; ' || chr(92) || '. not the end' end, "
            "timestamptz '2026-01-01' + g * interval '1 minute', "
            "jsonb_build_object('n', g) from generate_series(1, 60000) g") as source:
        expected = source.execute(checksum).fetchone()
        subprocess.run([_pg_dump(), "--format=plain", "--no-owner", "--file", str(dump),
                        stack.conninfo.replace("dbname=postgres", "dbname=dump_source")],
                       check=True)
    assert "FROM stdin;" in dump.read_text()
    with scratch_database(stack, "dump_target") as target:
        done = stack.cli("query", "--database", "dump_target", "-f", str(dump), timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "COPY 60000" in done.stderr
        assert target.execute(checksum).fetchone() == expected


def test_a_bad_row_in_copy_data_stops_the_script_with_the_line(stack: StackUnderTest,
                                                                 tmp_path: Path) -> None:
    """A row the server refuses: exit 1 with its message and the COPY's line, none of the
    COPY's rows kept, nothing after it run; data without `\\.` ends at the input's end."""
    script = tmp_path / "copy.sql"
    script.write_text("create table copy_bad (a int, b text);\n"
                      "copy copy_bad from stdin;\n1\tone\nx\ttwo\n\\.\n"
                      "create table copy_after (a int);\n")
    ends = tmp_path / "ends.sql"
    ends.write_text("copy copy_bad (a, b) from stdin;\n7\tseven\n8\t\\N")
    try:
        done = stack.cli("query", "-f", str(script))
        assert done.returncode == 1
        assert 'invalid input syntax for type integer: "x"' in done.stderr
        assert "Traceback" not in done.stderr
        with psycopg.connect(stack.conninfo, autocommit=True) as conn:
            assert conn.execute("select count(*) from copy_bad").fetchone() == (0,)
            assert conn.execute("select to_regclass('copy_after')").fetchone() == (None,)
        done = stack.cli("query", "-f", str(ends))
        assert done.returncode == 0, done.stderr
        with psycopg.connect(stack.conninfo, autocommit=True) as conn:
            assert conn.execute("select a, b from copy_bad order by a").fetchall() == [
                (7, "seven"), (8, None)]
    finally:
        with psycopg.connect(stack.conninfo, autocommit=True) as conn:
            conn.execute("drop table if exists copy_bad")


def _pg_dump() -> str:
    import glob
    import shutil

    return shutil.which("pg_dump") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]


def _running(stack: StackUnderTest, text: str) -> bool:
    """Whether the server is running `text`, or fetching from the studio's cursor for it."""
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        row = conn.execute("select count(*) from pg_stat_activity where state = 'active' "
                           "and (query like %s or query like 'FETCH%%crestfall_query%%') "
                           "and pid <> pg_backend_pid()", (f"%{text}%",)).fetchone()
    return bool(row and row[0])


def test_a_meta_command_other_than_pg_dumps_guard_stops_the_script(stack: StackUnderTest,
                                                                    tmp_path: Path) -> None:
    """`\\restrict`/`\\unrestrict` (pg_dump's guard) ask for nothing here; any other psql
    meta-command stops the script at its line, exit 1, after the statements before it."""
    script = tmp_path / "meta.sql"
    script.write_text("\\restrict k\ncreate table meta_before (a int);\n\\connect other\n"
                      "create table meta_after (a int);\n\\unrestrict k\n")
    try:
        done = stack.cli("query", "-f", str(script))
        assert done.returncode == 1
        assert "line 3: psql's \\connect is not run by `query`" in done.stderr
        with psycopg.connect(stack.conninfo, autocommit=True) as conn:
            assert conn.execute("select to_regclass('meta_before') is not null, "
                                "to_regclass('meta_after')").fetchone() == (True, None)
    finally:
        with psycopg.connect(stack.conninfo, autocommit=True) as conn:
            conn.execute("drop table if exists meta_before")
