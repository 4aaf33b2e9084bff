"""How the Cron section writes a time, a duration and a run."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from crestfall_tui.services.cron import CronRun


def when(at: datetime | None, zone: tzinfo) -> str:
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M:%S}" if at is not None else "-"


def took(span: timedelta | None) -> str:
    if span is None:
        return "-"
    seconds = span.total_seconds()
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def run_id(run: CronRun) -> str:
    """A run's id, `m`-prefixed for the studio's manual runs (their own numbering)."""
    return f"m{run.id}" if run.manual else str(run.id)


def run_cells(run: CronRun, zone: tzinfo) -> tuple[str, ...]:
    """A run's row: id, status, start, end, took, pid, message."""
    return (run_id(run), run.status + (" (manual)" if run.manual else ""),
            when(run.start, zone), when(run.end, zone), took(run.duration),
            "-" if run.pid is None else str(run.pid),
            run.return_message.splitlines()[0][:80] if run.return_message else "")


RUN_COLUMNS = ("run", "status", "start", "end", "took", "pid", "message")
