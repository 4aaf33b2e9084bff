"""Loading a CSV file into a table: a preview of its first rows with each CSV column mapped
to a table column, then one COPY in one transaction. Postgres parses the file itself (so an
unquoted empty field is NULL and "" is an empty string, as COPY defines), and a bad line
stops it with that line's number and nothing loaded."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.relations import TableInfo

PREVIEW_ROWS = 8
CHUNK = 256 * 1024
_LINE = re.compile(r"line (\d+)")

if TYPE_CHECKING:
    from psycopg import sql


@dataclass
class CsvPlan:
    """A file's header, its first rows, and which table column each CSV column fills."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    mapping: list[str | None]

    def problems(self, table: TableInfo) -> list[str]:
        """What stops the load as mapped (empty when it can go)."""
        found = []
        names = [column.name for column in table.columns]
        for csv_column, target in zip(self.header, self.mapping, strict=True):
            if target is None:
                found.append(f"CSV column {csv_column!r} goes to no column")
            elif target not in names:
                found.append(f"{table.qualified} has no column {target!r}")
        targets = [t for t in self.mapping if t is not None]
        for name in sorted({t for t in targets if targets.count(t) > 1}):
            found.append(f"column {name!r} is filled by more than one CSV column")
        return found


def read_plan(path: Path, table: TableInfo) -> CsvPlan:
    """The preview, each CSV column mapped to the table column of the same name (any case)
    where there is one."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            rows = [row for _, row in zip(range(PREVIEW_ROWS), reader, strict=False)]
    except FileNotFoundError:
        raise CrestfallError(f"{path}: no such file", title="Import") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise CrestfallError(f"{path.name} is not a UTF-8 CSV file: {error}",
                             title="Import") from None
    if not header:
        raise CrestfallError(f"{path.name} is empty: the first line must name the columns",
                             title="Import")
    by_name = {column.name: column.name for column in table.columns}
    by_lower = {column.name.lower(): column.name for column in table.columns}
    mapping = [by_name.get(name.strip()) or by_lower.get(name.strip().lower())
               for name in header]
    return CsvPlan(path, header, rows, mapping)


def copy_statement(table: TableInfo, plan: CsvPlan) -> sql.Composed:
    """The COPY that loads the file's mapped columns."""
    from psycopg import sql

    return sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)").format(
        sql.Identifier(table.schema, table.name),
        sql.SQL(", ").join(sql.Identifier(name) for name in plan.mapping if name))


async def load_csv(conn: Any, scope: Callable[[Any], Any], table: TableInfo, plan: CsvPlan,
                   progress: Callable[[int, int], None]) -> int:
    """COPY the whole file in one transaction, inside `scope` (the role viewed as, read-only);
    the rows loaded. `progress(bytes, total)`."""
    import psycopg

    problems = plan.problems(table)
    if problems:
        raise CrestfallError("; ".join(problems), title="Import")
    statement = copy_statement(table, plan)
    total = plan.path.stat().st_size
    sent = 0
    try:
        async with conn.transaction(), scope(conn), conn.cursor() as cursor:
            async with cursor.copy(statement) as copy:
                with plan.path.open("rb") as source:
                    while chunk := source.read(CHUNK):
                        await copy.write(chunk)
                        sent += len(chunk)
                        progress(sent, total)
            return int(cursor.rowcount)
    except psycopg.Error as error:
        diag = error.diag
        line = _LINE.search(diag.context or "")
        where = f"line {line.group(1)}: " if line else ""
        raise CrestfallError(f"{plan.path.name}: {where}{diag.message_primary or error}; "
                             "nothing was loaded", title="Import") from None
