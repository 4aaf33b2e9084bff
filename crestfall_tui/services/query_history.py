"""Every statement the Query screen ran, per stack: kept in a JSON Lines file in the stack's
data dir (mode 0600: queries can hold secrets), newest first when read back."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from crestfall_tui.services.jsonl import JsonLinesFile

HISTORY_FILE = "query-history.jsonl"
READ_LIMIT = 5000


@dataclass(frozen=True)
class HistoryEntry:
    """One run: the SQL, when, how long, rows, and whether it worked."""

    text: str
    ran_at: str
    """UTC, ISO 8601."""
    duration_s: float
    rows: int | None
    ok: bool
    error: str | None = None

    @classmethod
    def now(cls, text: str, duration_s: float, rows: int | None, error: str | None = None
            ) -> HistoryEntry:
        return cls(text=text, ran_at=datetime.now(UTC).isoformat(timespec="seconds"),
                   duration_s=round(duration_s, 4), rows=rows, ok=error is None, error=error)


class QueryHistory:
    """The history file of one stack."""

    def __init__(self, data_dir: Path) -> None:
        self.file = JsonLinesFile(data_dir / HISTORY_FILE)

    def add(self, entry: HistoryEntry) -> None:
        """Append one run."""
        self.file.append(asdict(entry))

    def entries(self, search: str = "") -> list[HistoryEntry]:
        """Runs newest first, those whose SQL contains `search` (any case); a damaged line
        is skipped, the others are kept."""
        found = []
        needle = search.lower()
        for record in self.file.newest_first(READ_LIMIT):
            try:
                entry = HistoryEntry(**record)
            except TypeError:
                continue
            if needle in entry.text.lower():
                found.append(entry)
        return found


def history_label(entry: HistoryEntry) -> str:
    """One line for a list of past runs: when, how long, outcome, the SQL."""
    first = " ".join(entry.text.split())[:100]
    outcome = f"{entry.rows} rows" if entry.ok and entry.rows is not None else (
        "ok" if entry.ok else f"error: {entry.error or ''}"[:40])
    return f"{entry.ran_at[:19].replace('T', ' ')}  {entry.duration_s:7.3f}s  {outcome:<16} {first}"
