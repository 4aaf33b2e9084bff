"""`crestfall-tui query`: run SQL from the command line and stream the results to stdout.

A script runs as psql runs it: statement by statement as the file is read (a script of any
size runs in bounded memory), its own BEGIN/COMMIT/ROLLBACK as written, stopping at the
first error (as `psql -v ON_ERROR_STOP=1`), so nothing of an unfinished transaction is
committed.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any, BinaryIO

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.commands import EXIT_USAGE
from crestfall_tui.config import StackConfig
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.query_session import (
    Column,
    QueryError,
    ResultStarted,
    RowBatch,
    StatementDone,
)
from crestfall_tui.services.script_run import (
    ScriptSession,
    run_interruptible,
    statements_read_ahead,
)
from crestfall_tui.services.sql_text import CopyData, MetaCommand

FORMATS = ("table", "csv", "json")
RESTRICTING = ("restrict", "unrestrict")
"""pg_dump's guard around a plain dump (from 15.14): psql runs no other meta-command between
the two; this runner runs none at all, so they ask for nothing more."""
CELL_WIDTH = 40
CHUNK = 1 << 16


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """`crestfall-tui query` on the command line."""
    query = commands.add_parser("query", parents=[common],
                                help="run SQL and stream the results to stdout")
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument("-c", "--command", dest="sql", metavar="SQL", help="the SQL to run")
    source.add_argument("-f", "--file", metavar="FILE", help="a file of SQL (- for stdin)")
    query.add_argument("--format", choices=FORMATS, default="table",
                       help="table (default), csv (with a header) or json (one object a row)")


def run(args: argparse.Namespace, stack: StackConfig) -> int:
    """Exit 1 on an SQL error, as psql -v ON_ERROR_STOP=1 does; 2 for a script that cannot
    be read."""
    from crestfall_tui.stack import choose_runtime

    runtime = choose_runtime(stack).runtime
    try:
        return run_query(runtime.postgres(read_only=stack.read_only),
                         script_chunks(args.sql, args.file), args.format,
                         sys.stdout, sys.stderr)
    except ScriptError as error:
        print(f"crestfall-tui: {error.message}", file=sys.stderr)
        return EXIT_USAGE


def run_query(postgres: PostgresClient, source: Iterator[str], output_format: str,
              out: IO[str], err: IO[str]) -> int:
    """Run every statement of `source` (chunks of whole lines) in order; 0 when all ran, 1
    at the first SQL error."""
    with ScriptSession(postgres) as session:
        return run_interruptible(
            session, lambda: _run_script(session, source, output_format, out, err))


def _run_script(session: ScriptSession, source: Iterator[str], output_format: str,
                out: IO[str], err: IO[str]) -> int:
    cut = False
    try:
        for statement in statements_read_ahead(source):
            if isinstance(statement, CopyData):  # the rows of the COPY FROM STDIN before
                for event in session.copy_data(statement):
                    if isinstance(event, StatementDone):
                        err.write(event.status + "\n")
                continue
            if isinstance(statement, MetaCommand):
                if statement.name in RESTRICTING:
                    continue  # no meta-command runs here: restricted already
                print(f"crestfall-tui: line {statement.line}: psql's \\{statement.name} is "
                      "not run by `query` (it runs SQL, COPY data, and no meta-command)",
                      file=err)
                return 1
            if output_format == "csv" and statement.streams:
                out.flush()
                binary = getattr(out, "buffer", None)
                session.copy_out(statement, binary.write if binary is not None
                                 else lambda data: out.write(data.decode()))
                (binary or out).flush()
                continue
            writer: _Writer | None = None
            for event in session.run(statement):
                if isinstance(event, ResultStarted):
                    writer = _WRITERS[output_format](event.columns, out)
                elif isinstance(event, RowBatch) and writer is not None:
                    writer.rows(event.rows)
                elif isinstance(event, StatementDone):
                    if writer is not None:
                        writer.end(event.rowcount)
                        cut = cut or writer.cut
                    elif event.status:
                        err.write(event.status + "\n")
            if writer is not None:
                out.flush()
    except QueryError as error:
        print(describe_error(error), file=err)
        return 1
    finally:
        for notice in session.notices:
            print(notice, file=err)
    if cut:
        print(f"note: values longer than {CELL_WIDTH} characters were cut (…); "
              "--format csv or json prints them whole", file=err)
    return 0


def describe_error(error: QueryError) -> str:
    """The error as psql shows it: where, message, the line with a caret, detail, hint."""
    statement = error.statement
    lines = [f"ERROR:  {error.message}"]
    position = error.position
    text = statement.text
    if position is not None and position <= len(text):
        line_start = text.rfind("\n", 0, position) + 1
        line_end = text.find("\n", position)
        number = statement.line + text.count("\n", 0, position)
        label = f"LINE {number}: "
        lines += [label + text[line_start:None if line_end < 0 else line_end],
                  " " * (len(label) + position - line_start) + "^"]
    else:
        lines.append(f"STATEMENT {statement.number} (line {statement.line}): "
                     f"{statement.first_line[:200]}")
    if error.detail:
        lines.append(f"DETAIL:  {error.detail}")
    if error.hint:
        lines.append(f"HINT:  {error.hint}")
    return "\n".join(lines)


class _Writer:
    cut = False
    """Whether a value was shortened to fit."""

    def __init__(self, columns: Sequence[Column], out: IO[str]) -> None:
        self.columns = columns
        self.out = out

    def rows(self, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def end(self, count: int) -> None:
        """Nothing to close by default."""


class _CsvWriter(_Writer):
    """CSV for results that COPY cannot produce (SHOW, EXPLAIN, ... RETURNING)."""

    def __init__(self, columns: Sequence[Column], out: IO[str]) -> None:
        super().__init__(columns, out)
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow([c.name for c in columns])

    def rows(self, rows: list[tuple[Any, ...]]) -> None:
        self.writer.writerows(rows)


class _JsonWriter(_Writer):
    """One JSON object per row (JSON Lines), lossless: numbers exactly as Postgres prints
    them (NaN and infinities as strings), booleans, json and jsonb as they are, arrays of
    these as arrays, everything else as Postgres's own text."""

    def __init__(self, columns: Sequence[Column], out: IO[str]) -> None:
        super().__init__(columns, out)
        self.names = [json.dumps(c.name, ensure_ascii=False) + ":" for c in columns]
        self.encoders = [json_encoder(c.oid) for c in columns]

    def rows(self, rows: list[tuple[Any, ...]]) -> None:
        named = list(zip(self.names, self.encoders, strict=True))
        self.out.write("".join(
            "{" + ",".join(name + ("null" if value is None else encode(value))
                           for (name, encode), value in zip(named, row, strict=True)) + "}\n"
            for row in rows))


class _TableWriter(_Writer):
    """An aligned text table, widths from the first batch as psql's FETCH_COUNT does."""

    widths: list[int] | None = None

    def rows(self, rows: list[tuple[Any, ...]]) -> None:
        cells = [[_cell(value) for value in row] for row in rows]
        if self.widths is None:
            self.widths = [min(CELL_WIDTH, max([len(c.name)] + [len(r[i]) for r in cells]))
                           for i, c in enumerate(self.columns)]
            self._line([c.name for c in self.columns])
            self.out.write("-+-".join("-" * w for w in self.widths) + "\n")
        for row in cells:
            self._line(row)

    def end(self, count: int) -> None:
        if self.widths is None:
            self.rows([])
        self.out.write(f"({count} row{'' if count == 1 else 's'})\n")

    def _line(self, cells: list[str]) -> None:
        assert self.widths is not None
        fitted = []
        for cell, width in zip(cells, self.widths, strict=True):
            if len(cell) > width:
                cell = cell[: width - 1] + "…"
                self.cut = True
            fitted.append(cell.ljust(width))
        self.out.write(" | ".join(fitted).rstrip() + "\n")


_WRITERS: dict[str, type[_Writer]] = {"table": _TableWriter, "csv": _CsvWriter,
                                      "json": _JsonWriter}


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    return str(value).replace("\n", "\\n")


# --- JSON from Postgres's text --------------------------------------------------------------

_NUMBERS = {20, 21, 23, 26, 700, 701, 1700}
"""int8, int2, int4, oid, float4, float8, numeric."""
_JSON_TYPES = {114, 3802}
_BOOL = 16
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_ARRAYS: dict[int, int] = {}


def json_encoder(oid: int) -> Any:
    """A function from a value's text (as Postgres sends it) to its JSON text."""
    if oid in _NUMBERS:
        return _number
    if oid == _BOOL:
        return _boolean
    if oid in _JSON_TYPES:
        return _raw
    element = _array_element(oid)
    if element is not None:
        inner = json_encoder(element)
        delimiter = ";" if element == 603 else ","  # box
        return lambda text: _array(text, inner, delimiter)
    return _string


def _array_element(oid: int) -> int | None:
    """The element type of a built-in array type."""
    if not _ARRAYS:
        from psycopg.postgres import types

        _ARRAYS.update({info.array_oid: info.oid for info in types if info.array_oid})
    return _ARRAYS.get(oid)


def _number(text: str) -> str:
    # Exact as printed; Infinity and NaN are not JSON numbers, so they stay strings.
    return text if _JSON_NUMBER.fullmatch(text) else json.dumps(text)


def _boolean(text: str) -> str:
    return "true" if text == "t" else "false"


def _raw(text: str) -> str:
    return text


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _array(text: str, encode: Any, delimiter: str) -> str:
    """A Postgres array literal (`{1,2}`, `{{a,"b c"},{NULL,d}}`, `[0:1]={1,2}`) as JSON."""
    if text.startswith("["):  # explicit bounds: the elements follow the `=`
        text = text[text.index("=") + 1:]
    out: list[str] = []
    at = 0
    length = len(text)
    need_comma = False
    while at < length:
        char = text[at]
        if char == "{":
            out.append(",[" if need_comma else "[")
            need_comma = False
            at += 1
        elif char == "}":
            out.append("]")
            need_comma = True
            at += 1
        elif char == delimiter or char.isspace():
            at += 1
        else:
            if char == '"':
                at += 1
                chars = []
                while text[at] != '"':
                    if text[at] == "\\":
                        at += 1
                    chars.append(text[at])
                    at += 1
                at += 1
                item = encode("".join(chars))
            else:
                end = at
                while end < length and text[end] not in (delimiter, "}"):
                    end += 1
                word = text[at:end].strip()
                at = end
                item = "null" if word == "NULL" else encode(word)
            out.append("," + item if need_comma else item)
            need_comma = True
    return "".join(out)


# --- reading the script ------------------------------------------------------------------

class ScriptError(CrestfallError):
    """The script cannot be read as text."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Script")


def script_chunks(command: str | None, file: str | None) -> Iterator[str]:
    """The SQL given with -c, or read from -f FILE (- for standard input), in chunks of
    whole lines, decoded as UTF-8 as it is read."""
    if command is not None:
        yield command
        return
    assert file is not None
    name = "standard input" if file == "-" else file
    if file == "-":
        yield from _decoded(sys.stdin.buffer, name)
        return
    try:
        handle = open(file, "rb")  # noqa: SIM115 - closed below, read lazily
    except OSError as error:
        raise ScriptError(f"cannot read {file}: {error.strerror}") from None
    with handle:
        yield from _decoded(handle, name)


def _decoded(handle: BinaryIO, name: str) -> Iterator[str]:
    offset = lines = 0
    pending: list[str] = []
    size = 0
    try:
        for raw in handle:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                # The statements before this line run, as psql runs them; none after.
                yield "".join(pending)
                raise ScriptError(
                    f"{name} is not UTF-8 text: byte {offset + error.start} (0x"
                    f"{raw[error.start]:02x}, line {lines + 1}) is not valid UTF-8; "
                    "the statements before that line ran, none from it on") from None
            offset += len(raw)
            lines += 1
            pending.append(line)
            size += len(line)
            if size >= CHUNK:
                yield "".join(pending)
                pending, size = [], 0
    except OSError as error:
        raise ScriptError(f"cannot read {name}: {error.strerror}") from None
    yield "".join(pending)
