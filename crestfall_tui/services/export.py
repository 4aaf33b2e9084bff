"""A query's whole result written to a file by streaming COPY, whatever its size."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.query_session import QuerySession
from crestfall_tui.services.sql_text import Statement

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    path: Path
    rows: int | None
    """Known for JSON Lines (one line a row); CSV fields may hold newlines."""
    bytes_written: int


def export_format(path: Path) -> str:
    """csv or jsonl, from the file's extension."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise CrestfallError(f"{path.name}: export writes .csv or .jsonl files",
                             title="Export") from None


async def export_result(session: QuerySession, statement: Statement, path: Path,
                        progress: Callable[[int, int | None], None]) -> ExportReport:
    """Stream the statement's rows into `path`; `progress(bytes, rows)` as it goes."""
    if not statement.streams:
        raise CrestfallError("export works on queries (SELECT, WITH, VALUES, TABLE)",
                             title="Export")
    kind = export_format(path)
    source = session.copy_csv(statement) if kind == "csv" else \
        session.copy_json_lines(statement)
    return await write_export(path, source, progress)


async def write_export(path: Path, source: AsyncIterator[bytes | str],
                       progress: Callable[[int, int | None], None]) -> ExportReport:
    """Write what COPY streams: CSV chunks (bytes) or JSON Lines (one str a row).
    `progress(bytes, rows)` as it goes; for CSV the rows are its lines after the header (a
    field with a newline counts twice), so only the final report leaves them out.

    The file appears only when the export succeeded: it is written as `<path>.part` and
    renamed at the end, so a failed or cancelled export never clobbers an existing file.
    """
    partial = path.with_name(path.name + ".part")
    written, rows, lines = 0, 0, False
    try:
        with partial.open("wb") as out:
            async for item in source:
                if isinstance(item, str):
                    lines = True
                    data = item.encode() + b"\n"
                    rows += 1
                else:
                    data = item
                    rows += data.count(b"\n")  # about the rows: a field may hold a newline
                out.write(data)
                written += len(data)
                if not lines or rows % 1000 == 0:
                    progress(written, rows if lines else max(0, rows - 1))
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    known = rows if lines or export_format(path) == "jsonl" else None
    progress(written, known)
    return ExportReport(path, known, written)
