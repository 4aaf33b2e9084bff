"""A large SQL script (560,000 inserts, about 50 MB) run by `crestfall-tui query -f`
against `psql -f` on the same file and the same stack: elapsed time and peak RSS of each.

Each run loads a fresh table; the two alternate, so both see the same load.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROW = ("insert into big_import (id, name, note, amount) values "
       "({i}, 'name {i}', 'a note; with (parens) and ''quotes''', {i}.25);\n")


def write_script(path: Path, statements: int) -> None:
    with path.open("w") as out:
        out.write("drop table if exists big_import;\n"
                  "create table big_import (id int primary key, name text, note text, "
                  "amount numeric);\n")
        for i in range(statements):
            out.write(ROW.format(i=i))


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Elapsed seconds and peak RSS (MB, the process's own high-water mark sampled every
    20 ms: getrusage would count the benchmark's own memory, copied at fork) of one
    command, its output thrown away."""
    started = time.monotonic()
    peak_kb = 0
    with open(os.devnull, "w") as devnull:
        child = subprocess.Popen(args, stdout=devnull, stderr=devnull, env=env)
        while child.poll() is None:
            try:
                status = Path(f"/proc/{child.pid}/status").read_text()
                peak_kb = max(peak_kb, int(status.split("VmHWM:")[1].split()[0]))
            except (OSError, IndexError, ValueError):
                pass
            time.sleep(0.02)
    elapsed = time.monotonic() - started
    if child.returncode != 0:
        raise SystemExit(f"{args[0]} failed (exit {child.returncode})")
    return elapsed, peak_kb / 1024


def bench_scripts(runs: int, binary: Path, make_stack: object, statements: int) -> None:
    stack = make_stack("benchs")  # type: ignore[operator]
    try:
        stack.runtime.up()
        script = Path(tempfile.mkdtemp()) / "big.sql"
        write_script(script, statements)
        size = script.stat().st_size / 1e6
        env = {**os.environ, "PGPASSWORD": stack.runtime.secrets.postgres_password}
        psql = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                str(stack.stack.ports.db), "-U", "postgres", "-d", "postgres", "-f", str(script)]
        ours = [str(binary), "query", "--stack", "benchs", "--config", str(stack.config_path),
                "-f", str(script)]
        theirs_runs, ours_runs = [], []
        for _ in range(runs):
            theirs_runs.append(timed(psql, env))
            ours_runs.append(timed(ours, env))
        theirs_s = statistics.median(t for t, _ in theirs_runs)
        ours_s = statistics.median(t for t, _ in ours_runs)
        ours_mb = max(m for _, m in ours_runs)
        print(f"scripts  {statements} inserts, {size:.0f} MB: psql -f median {theirs_s:.1f}s "
              f"({max(m for _, m in theirs_runs):.0f} MB); crestfall-tui query -f median "
              f"{ours_s:.1f}s, peak RSS {ours_mb:.0f} MB")
        print(f"scripts  ratio crestfall/psql = {ours_s / theirs_s:.2f} (goal <= 1.2), "
              f"peak RSS {ours_mb:.0f} MB (goal < 100 MB)")
    finally:
        stack.remove()
