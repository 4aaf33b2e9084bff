"""A cron schedule as pg_cron reads it: when it fires next (croniter), what it says in
words (cron-descriptor), the shortest gap between two runs, and which schedules need a newer
pg_cron than the database has. No Textual here."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from crestfall_tui.errors import CrestfallError

NEXT_RUNS = 3
SECONDS = re.compile(r"^\s*(\d+)\s+seconds?\s*$", re.IGNORECASE)
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
          "@hourly": "0 * * * *"}
"""pg_cron's @-entries, as the five fields they stand for (@reboot has none)."""


def zone_named(name: str | None) -> tzinfo:
    """The zone pg_cron schedules in: `cron.timezone` where the version has it, else GMT."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name or name.upper() in ("GMT", "UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


@lru_cache(maxsize=4096)
def _parsed(schedule: str) -> Any:
    """croniter's reading of a schedule, made once: reading one costs about 0.2 ms, the
    better part of a job's row in a list of 1,000. None when croniter cannot read it."""
    from croniter import croniter

    try:
        return croniter(MACROS.get(schedule.strip().lower(), schedule), datetime.now(UTC))
    except (ValueError, KeyError):
        return None


def _stepper(schedule: str, start: datetime) -> Any:
    """A croniter of its own for `schedule`, starting at `start` (the reading shared)."""
    import copy

    parsed = _parsed(schedule)
    if parsed is None:
        return None
    found = copy.copy(parsed)
    found.set_current(start, force=True)
    return found


def next_runs(schedule: str, zone: Any = UTC, after: datetime | None = None,
              count: int = NEXT_RUNS) -> list[datetime]:
    """The next `count` times a 5-field cron schedule (or @daily-style entry) fires after
    `after` (now), in `zone`; empty for a schedule croniter does not read (pg_cron refuses
    those too) and for @reboot and second schedules, which no clock time describes."""
    found = _stepper(schedule, (after or datetime.now(UTC)).astimezone(zone))
    if found is None:
        return []
    try:
        return [found.get_next(datetime) for _ in range(count)]
    except (ValueError, KeyError):
        return []


def fires_between(schedule: str, start: datetime, end: datetime, zone: Any = UTC) -> int:
    """How many times the schedule fires after `start`, up to and including `end`.

    Counted from croniter's expansion of the fields (the minutes of a day it fires at, and
    the days), not by stepping croniter from one firing to the next: that costs about 20 µs
    a step, so a minute job's day took 30 ms and a list of 1,000 such jobs half a minute.
    croniter has no counting of its own.
    """
    parsed = _parsed(schedule)
    if parsed is None:
        return 0
    fields = parsed.expanded
    if not all(value == "*" or isinstance(value, int) for field in fields for value in field):
        return _fires_by_stepping(schedule, start, end, zone)  # L, W, #: rare, stepped
    first, last = start.astimezone(zone), end.astimezone(zone)
    if first.utcoffset() != last.utcoffset():  # a clock change inside: croniter's own rules
        return _fires_by_stepping(schedule, start, end, zone)
    at = _minutes_of_day(schedule)
    _minutes, _hours, days, months, weekdays = fields[:5]
    count = 0
    day = first.date()
    while day <= last.date():
        if _day_fires(day, days, months, weekdays):
            # Firing at minute t of the day: first < t:00 <= last.
            after = _seconds_into(first) // 60 + 1 if day == first.date() else 0
            upto = _seconds_into(last) // 60 if day == last.date() else 1439
            count += max(bisect_right(at, upto) - bisect_left(at, after), 0)
        day += timedelta(days=1)
    return count


def _seconds_into(at: datetime) -> int:
    """Whole seconds since the start of its day (a part of a second never moves a firing,
    which is always on a whole minute, across the bounds)."""
    return at.hour * 3600 + at.minute * 60 + at.second


@lru_cache(maxsize=4096)
def _minutes_of_day(schedule: str) -> list[int]:
    """The minutes of a day (0 to 1439) the schedule fires at, in order."""
    minutes, hours = _parsed(schedule).expanded[:2]
    return sorted(hour * 60 + minute
                  for hour in (range(24) if hours == ["*"] else hours)
                  for minute in (range(60) if minutes == ["*"] else minutes))


def _day_fires(day: date, days: list[Any], months: list[Any], weekdays: list[Any]) -> bool:
    """Cron's day rule: the month must match; then day of month or day of week when both
    are restricted, else whichever is."""
    if months != ["*"] and day.month not in months:
        return False
    by_date = days == ["*"] or day.day in days
    weekday = day.isoweekday() % 7  # cron: Sunday is 0 (and 7)
    by_weekday = weekdays == ["*"] or weekday in weekdays or (weekday == 0 and 7 in weekdays)
    if days != ["*"] and weekdays != ["*"]:
        return by_date or by_weekday
    return by_date and by_weekday


def _fires_by_stepping(schedule: str, start: datetime, end: datetime, zone: Any) -> int:
    found = _stepper(schedule, start.astimezone(zone))
    fired = 0
    while found is not None and found.get_next(datetime) <= end:
        fired += 1
    return fired


@lru_cache(maxsize=4096)
def in_words(schedule: str) -> str:
    """The schedule in words ("At 03:00, Monday through Friday"); the schedule itself where
    cron-descriptor cannot read it."""
    from cron_descriptor import ExpressionDescriptor, Options

    entry = schedule.strip().lower()
    if entry == "@reboot":
        return "When the server starts"
    if seconds := SECONDS.match(schedule):
        return f"Every {seconds.group(1)} seconds"
    options = Options()
    options.use_24hour_time_format = True
    try:
        return str(ExpressionDescriptor(MACROS.get(entry, schedule), options)
                   .get_description())
    except Exception:  # noqa: BLE001 - its errors share no base class; the entry then
        return schedule  # speaks for itself


@lru_cache(maxsize=4096)
def shortest_gap(schedule: str) -> timedelta | None:
    """The shortest time between two of its next 25 runs (a minute for `* * * * *`); None
    when the schedule has no clock times."""
    if seconds := SECONDS.match(schedule):
        return timedelta(seconds=int(seconds.group(1)))
    times = next_runs(schedule, UTC, None, 25)
    if len(times) < 2:
        return None
    return min(later - earlier for earlier, later in zip(times, times[1:], strict=False))


def needs_newer(schedule: str, version: str) -> str | None:
    """Why a pg_cron of `version` cannot take the schedule (the version that brings it);
    None when it can."""
    major_minor = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if SECONDS.match(schedule) and major_minor < (1, 5):
        return (f"schedules in seconds ({schedule.strip()!r}) need pg_cron 1.5; this "
                f"database has {version}")
    if "$" in schedule and major_minor < (1, 6):
        return f"`$` (the last day of the month) needs pg_cron 1.6; this database has {version}"
    return None


class CronError(CrestfallError):
    def __init__(self, message: str) -> None:
        super().__init__(message, title="Cron")
