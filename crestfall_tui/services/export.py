"""A query's whole result written to a file by streaming COPY, whatever its size."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from crestfall_tui.clients.copy_out import CopyCount
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.query_session import QuerySession
from crestfall_tui.services.sql_text import Statement

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    path: Path
    rows: int
    bytes_written: int


def export_format(path: Path) -> str:
    """csv or jsonl, from the file's extension."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise CrestfallError(f"{path.name}: export writes .csv or .jsonl files",
                             title="Export") from None


Copy = Callable[[Callable[[bytes], object], Callable[[CopyCount], None]],
               Awaitable[CopyCount]]
"""Runs a COPY into a writer, reporting progress: what an export is made of."""


async def export_result(session: QuerySession, statement: Statement, path: Path,
                        progress: Callable[[int, int | None], None]) -> ExportReport:
    """Stream the statement's rows into `path`; `progress(bytes, rows)` as it goes."""
    if not statement.streams:
        raise CrestfallError("export works on queries (SELECT, WITH, VALUES, TABLE)",
                             title="Export")
    kind = export_format(path)
    return await write_export(
        path, lambda write, heard: session.copy_out(statement, kind, write, heard), progress)


async def write_export(path: Path, copy: Copy,
                       progress: Callable[[int, int | None], None]) -> ExportReport:
    """Write what the COPY sends into `path`; `progress(bytes, rows)` as it goes. Postgres
    sends one COPY message a row, so the rows are counted exactly (a CSV's header is one).

    The file appears only when the export succeeded: it is written as `<path>.part` and
    renamed at the end, so a failed or cancelled export never clobbers an existing file.
    """
    header = 1 if export_format(path) == "csv" else 0
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as out:
            count = await copy(out.write, lambda heard: progress(
                heard.bytes, max(0, heard.messages - header)))
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    rows = max(0, count.messages - header)
    progress(count.bytes, rows)
    return ExportReport(path, rows, count.bytes)
