"""A private JSON Lines file: records appended one per line (mode 0600, since what the
studio records can hold secrets), read back newest first, a damaged line skipped."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class JsonLinesFile:
    """Append-only records in one file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def newest_first(self, limit: int) -> Iterator[dict[str, Any]]:
        """The last `limit` records, newest first; lines that are not a JSON object are
        skipped, so one damaged line never hides the others."""
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return
        for line in reversed(lines[-limit:]):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record
