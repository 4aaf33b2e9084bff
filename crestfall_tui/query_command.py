"""`crestfall-tui query`: run SQL from the command line and stream the results to stdout."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.services.query_session import (
    Column,
    QueryError,
    QuerySession,
    ResultStarted,
    RowBatch,
    StatementDone,
)
from crestfall_tui.services.sql_text import split_statements

FORMATS = ("table", "csv", "json")
CELL_WIDTH = 40


async def run_query(url: Any, read_only: bool, buffer: str, output_format: str,
                    out: IO[str], err: IO[str]) -> int:
    """Run every statement of `buffer`; 0 when all ran, 1 at the first SQL error."""
    postgres = PostgresClient(url, read_only=read_only)
    session = QuerySession(postgres, text_values=output_format != "json")
    try:
        for statement in split_statements(buffer):
            if output_format == "csv" and statement.streams:
                async for chunk in session.copy_csv(statement):
                    out.write(chunk.decode())
                out.flush()
                continue
            writer: _Writer | None = None
            async for event in session.run(statement):
                if isinstance(event, ResultStarted):
                    writer = _WRITERS[output_format](event.columns, out)
                elif isinstance(event, RowBatch) and writer is not None:
                    writer.rows(event.rows)
                elif isinstance(event, StatementDone):
                    if writer is not None:
                        writer.end(event.rowcount)
                    elif event.status:
                        print(event.status, file=err)
            out.flush()
    except QueryError as error:
        print(describe_error(buffer, error), file=err)
        return 1
    finally:
        for notice in session.notices:
            print(notice, file=err)
        await session.close()
    return 0


def describe_error(buffer: str, error: QueryError) -> str:
    """The error as psql shows it: message, the line with a caret, detail, hint."""
    lines = [f"ERROR:  {error.message}"]
    position = error.buffer_position
    if position is not None:
        line_start = buffer.rfind("\n", 0, position) + 1
        line_end = buffer.find("\n", position)
        text = buffer[line_start:None if line_end < 0 else line_end]
        number = buffer.count("\n", 0, position) + 1
        label = f"LINE {number}: "
        lines += [label + text, " " * (len(label) + position - line_start) + "^"]
    if error.detail:
        lines.append(f"DETAIL:  {error.detail}")
    if error.hint:
        lines.append(f"HINT:  {error.hint}")
    return "\n".join(lines)


class _Writer:
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
    """One JSON object per row (JSON Lines), values keeping their types."""

    def rows(self, rows: list[tuple[Any, ...]]) -> None:
        names = [c.name for c in self.columns]
        for row in rows:
            self.out.write(json.dumps(dict(zip(names, row, strict=True)),
                                      default=_json_value, ensure_ascii=False) + "\n")


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
        fitted = [c if len(c) <= w else c[: w - 1] + "…" for c, w in zip(cells, self.widths,
                                                                          strict=True)]
        self.out.write(" | ".join(c.ljust(w) for c, w in zip(fitted, self.widths,
                                                            strict=True)).rstrip() + "\n")


_WRITERS: dict[str, type[_Writer]] = {"table": _TableWriter, "csv": _CsvWriter,
                                      "json": _JsonWriter}


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    return str(value).replace("\n", "\\n")


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


def read_sql(command: str | None, file: str | None) -> str:
    """The SQL given with -c, or read from -f FILE (- for standard input)."""
    if command is not None:
        return command
    assert file is not None
    if file == "-":
        return sys.stdin.read()
    with open(file, encoding="utf-8") as handle:
        return handle.read()
