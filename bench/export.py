"""Exporting a 2,000,000-row result as CSV (about 170 MB) against psql's `\\copy` of the same
query on the same stack:

- headless: `crestfall-tui query --format csv -c ...` into a file, against
  `psql -c "\\copy (...) to FILE with (format csv, header)"`, alternating, wall time of each;
  the two files must be the same bytes;
- on screen: the Query section's export (ctrl+s, a file name, enter) until it says it is
  done, against psql's interactive `\\copy` until it prints `COPY 2000000`, both timed by
  tui_timer in tmux from the enter that starts them.
"""

from __future__ import annotations

import filecmp
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROWS = 2_000_000
TABLE = f"""
create table if not exists exp2m as
select g as id, md5(g::text) as a, md5((g + 1)::text) as b, g * 1.5 as c
from generate_series(1, {ROWS}) g
"""
QUERY = "select * from exp2m"


def bench_export(runs: int, timer: Path, binary: Path, make_stack: Callable[[str], Any]) -> None:
    import psycopg

    stack = make_stack("benchx")
    work = Path(tempfile.mkdtemp())
    try:
        stack.runtime.up()
        url = stack.runtime.db_url()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(TABLE)
            conn.execute("vacuum analyze exp2m")
        ours_file, psql_file = work / "ours.csv", work / "psql.csv"
        copy = f"\\copy ({QUERY}) to '{psql_file}' with (format csv, header)"
        ours_s, psql_s = [], []
        for _ in range(max(runs, 2)):
            psql_s.append(_timed(["psql", url, "-qc", copy], None))
            with ours_file.open("wb") as out:
                ours_s.append(_timed([str(binary), "query", "--stack", "benchx", "--config",
                                      str(stack.config_path), "--format", "csv", "-c", QUERY],
                                     out))
        same = filecmp.cmp(ours_file, psql_file, shallow=False)
        size = psql_file.stat().st_size / 1e6
        ours, peer = statistics.median(ours_s), statistics.median(psql_s)
        print(f"export   headless CSV of {ROWS:,} rows ({size:.0f} MB, same bytes: {same}): "
              f"crestfall-tui median {ours:.2f}s, psql \\copy {peer:.2f}s, "
              f"ratio {ours / peer:.2f} (goal <= 1.1)")

        target = work / "screen.csv"
        ours_screen, psql_screen = [], []
        for _ in range(max(runs, 2)):  # alternating, so both see the same load
            ours_screen.append(_tui(
                timer, f"{binary} --stack benchx --config {stack.config_path}", "healthy",
                f"{{F3}}{{sleep:0.5}}{QUERY}{{wait:from exp2m}}{{C-s}}"
                f"{{wait:Export the whole}}{{sleep:0.3}}{{C-u}}{target}{{Enter}}",
                f"exported {ROWS:,} rows"))
            psql_screen.append(_tui(
                timer, f"psql '{url}'", r"=#",
                f"\\copy ({QUERY}) to '{work / 'psql-screen.csv'}' with "
                "(format csv, header){Enter}", f"COPY {ROWS}"))
        ours, peer = statistics.median(ours_screen), statistics.median(psql_screen)
        print(f"export   on screen, enter to done: Query section median {ours:.2f}s, "
              f"psql \\copy {peer:.2f}s, ratio {ours / peer:.2f} (goal <= 1.1)")
    finally:
        stack.remove()
        for path in work.iterdir():
            path.unlink()
        work.rmdir()


def _timed(args: list[str], out: Any) -> float:
    started = time.monotonic()
    subprocess.run(args, stdout=out or subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    return time.monotonic() - started


def _tui(timer: Path, cmd: str, ready: str, keys: str, done: str) -> float:
    """Seconds from the last key to `done` on screen (one run), by tui_timer."""
    args = [sys.executable, str(timer), "--cmd", cmd, "--wait-for", ready, "--keys", keys,
            "--then-wait-for", done, "--timeout", "120", "--size", "160x40", "--runs", "1"]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    found = next((line for line in result.stdout.splitlines()
                  if line.startswith("RESULT ")), "")
    steps = json.loads(found.removeprefix("RESULT "))["steps"] if found else []
    if len(steps) < 2 or steps[1].get("elapsed_s") is None:
        raise SystemExit(f"timer failed for {cmd}:\n{result.stdout[-3000:]}"
                         f"\n{result.stderr[-1000:]}")
    return float(steps[1]["elapsed_s"])
