"""A query's whole result written to a file by streaming COPY, whatever its size."""

from __future__ import annotations

import os
from collections.abc import Callable
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
    """Stream the statement's rows into `path`; `progress(bytes, rows)` as it goes.

    The file appears only when the export succeeded: it is written as `<path>.part` and
    renamed at the end, so a failed or cancelled export never clobbers an existing file.
    """
    if not statement.streams:
        raise CrestfallError("export works on queries (SELECT, WITH, VALUES, TABLE)",
                             title="Export")
    kind = export_format(path)
    partial = path.with_name(path.name + ".part")
    written, rows = 0, 0
    try:
        with partial.open("wb") as out:
            if kind == "csv":
                async for chunk in session.copy_csv(statement):
                    out.write(chunk)
                    written += len(chunk)
                    progress(written, None)
            else:
                async for line in session.copy_json_lines(statement):
                    data = line.encode() + b"\n"
                    out.write(data)
                    written += len(data)
                    rows += 1
                    if rows % 1000 == 0:
                        progress(written, rows)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    progress(written, rows if kind == "jsonl" else None)
    return ExportReport(path, rows if kind == "jsonl" else None, written)
