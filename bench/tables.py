"""The Tables screen on a 10,000,000-row table, side by side in one run.

    .venv/bin/python bench/run.py --only tables [--runs 3]

In tmux (the shared timer, as a person sees it): open the table to its first page, End to
the last page, PageDown p50/p95, and peak RSS; the same on a 10,000-row table for the RSS
ratio. Against the floor: the same pages fetched by a bare psycopg query on an open
connection. In process: the service's page reads (SQL building, text loading, rows) against
that same bare query, which is the part of the time that is ours and not the terminal's.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BIG_ROWS = 10_000_000
SMALL_ROWS = 10_000
PAGE_DOWNS = 30
SIZE = (160, 40)
TABLE_SQL = """
drop table if exists {name};
create table {name} (id bigint not null, name text, n int, at timestamptz);
insert into {name}
select g, 'row-' || g, g % 1000, timestamptz '2026-01-01' + g * interval '1 second'
from generate_series(1, {rows}) g;
alter table {name} add primary key (id);
"""


def make_tables(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for name, rows in (("big10m", BIG_ROWS), ("small10k", SMALL_ROWS)):
            started = time.monotonic()
            conn.execute(TABLE_SQL.format(name=name, rows=rows).encode())
            conn.execute(f"vacuum analyze {name}".encode())
            print(f"tables   made {name} ({rows:,} rows) in {time.monotonic() - started:.0f}s",
                  flush=True)


def page_step(stack: Any) -> int:
    """How far PageDown moves the cursor at the benchmark's terminal size (Pilot, same
    layout), so each step can wait for its own row number in the title."""
    from crestfall_tui.app import CrestfallApp
    from crestfall_tui.widgets import TableGrid

    async def measure() -> int:
        app = CrestfallApp(stack.stack, stack.runtime)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f2")
            await pilot.pause(1.0)
            await pilot.press("slash", *"small10k", "enter")
            grid = app.screen.query_one(TableGrid)
            for _ in range(100):
                await pilot.pause(0.05)
                if grid.rows:
                    break
            await pilot.press("pagedown")
            await pilot.pause(0.2)
            return grid.cursor_row

    return asyncio.run(measure())


def tui_steps(cmd: str, table: str, step: int, runs: int, timer: Path) -> dict[str, Any]:
    """Open the table, End, Home, then PAGE_DOWNS PageDowns: each step's seconds (every
    run) and the peak RSS."""
    last_row = BIG_ROWS if "big" in table else SMALL_ROWS
    args = [sys.executable, str(timer), "--cmd", cmd, "--wait-for", "healthy",
            "--keys", f"{{F2}}{{wait:Pick a table}}/{{sleep:0.3}}{table}{{sleep:0.5}}{{Enter}}",
            "--then-wait-for", r"row-1 ",
            "--keys", "{End}", "--then-wait-for", rf"row-{last_row}\b",
            "--keys", "{Home}", "--then-wait-for", r"· row 1(?![\d,])",
            "--timeout", "120", "--size", f"{SIZE[0]}x{SIZE[1]}", "--runs", str(runs)]
    for k in range(1, PAGE_DOWNS + 1):
        args += ["--keys", "{PageDown}", "--then-wait-for", rf"· row {1 + k * step:,}(?![\d,])"]
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
        done = subprocess.run([*args, "--json-out", out.name], capture_output=True, text=True,
                              check=False)
        results = [json.loads(line) for line in Path(out.name).read_text().splitlines()]
    summary = next((line for line in done.stdout.splitlines() if line.startswith("SUMMARY ")), "")
    if done.returncode != 0 or not summary:
        raise SystemExit(f"timer failed for {table}:\n{done.stdout[-3000:]}")
    steps: list[list[float]] = []
    for result in results:
        for index, step_result in enumerate(result["steps"]):
            while len(steps) <= index:
                steps.append([])
            if step_result.get("elapsed_s") is not None:
                steps[index].append(step_result["elapsed_s"])
    rss = json.loads(summary.removeprefix("SUMMARY "))["peak_tree_rss_mb"]["median"]
    return {"steps": steps, "rss_mb": rss}


QUERIES = {
    "first": "select id, name, n, at, ctid::text, xmin::text from big10m "
             "order by id limit 200",
    "last": "select id, name, n, at, ctid::text, xmin::text from big10m "
            "order by id desc limit 200",
    "after": "select id, name, n, at, ctid::text, xmin::text from big10m "
             "where id > 5000000 order by id limit 200",
}
"""The pages the benchmark compares, as a bare query writes them."""


def bare_pages(url: str, runs: int) -> dict[str, float]:
    """The same pages, fetched by a bare (blocking) psycopg query on an open connection."""
    import psycopg

    found = {}
    with psycopg.connect(url) as conn:
        for name, query in QUERIES.items():
            times = []
            for _ in range(max(runs, 5) * 4):
                started = time.perf_counter()
                conn.execute(query.encode()).fetchall()
                times.append(time.perf_counter() - started)
            found[name] = statistics.median(times)
    return found


def bare_async_pages(url: str, runs: int) -> dict[str, float]:
    """The same pages by psycopg's async connection, as the studio uses it."""
    import psycopg

    async def measure() -> dict[str, float]:
        found = {}
        async with await psycopg.AsyncConnection.connect(url) as conn:
            for name, query in QUERIES.items():
                times = []
                for _ in range(max(runs, 5) * 4):
                    started = time.perf_counter()
                    await (await conn.execute(query.encode())).fetchall()
                    times.append(time.perf_counter() - started)
                found[name] = statistics.median(times)
        return found

    return asyncio.run(measure())


def service_pages(url: str, runs: int) -> dict[str, float]:
    """The Tables service reading the same pages (SQL built with psycopg.sql, values as
    text, rows as objects)."""
    from crestfall_tui.clients.postgres import PostgresClient
    from crestfall_tui.services.table_session import TableSession
    from crestfall_tui.services.table_view import TableView

    async def measure() -> dict[str, float]:
        session = TableSession(PostgresClient(lambda: url))
        table = await session.table("public", "big10m")
        view = TableView(table)
        middle = (await session.row_where(view, {"id": "5000000"}))
        found = {}
        for name, where, anchor in (("first", "first", None), ("last", "last", None),
                                    ("after", "after", middle)):
            times = []
            for _ in range(max(runs, 5) * 4):
                started = time.perf_counter()
                await session.page(view, where, anchor)
                times.append(time.perf_counter() - started)
            found[name] = statistics.median(times)
        await session.close()
        return found

    return asyncio.run(measure())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_tables(runs: int, timer: Path, binary: Path) -> None:
    from tests.helpers import make_stack

    stack = make_stack("bencht")
    try:
        stack.runtime.up()
        url = stack.runtime.db_url()
        make_tables(url)
        step = page_step(stack)
        cmd = f"{binary} --stack bencht --config {stack.config_path}"
        big = tui_steps(cmd, "big10m", step, runs, timer)
        small = tui_steps(cmd, "small10k", step, runs, timer)
        bare = bare_pages(url, runs)
        bare_async = bare_async_pages(url, runs)
        ours = service_pages(url, runs)
        opened = statistics.median(big["steps"][0])
        last = statistics.median(big["steps"][1])
        downs = [value for values in big["steps"][3:] for value in values]
        print(f"tables   bare psycopg page of 200: first {bare['first'] * 1000:.2f} ms, last "
              f"{bare['last'] * 1000:.2f} ms, after a key {bare['after'] * 1000:.2f} ms")
        print(f"tables   service page of 200: first {ours['first'] * 1000:.2f} ms, last "
              f"{ours['last'] * 1000:.2f} ms, after a key {ours['after'] * 1000:.2f} ms")
        print(f"tables   bare async psycopg page: first {bare_async['first'] * 1000:.2f} ms, "
              f"last {bare_async['last'] * 1000:.2f} ms, after {bare_async['after'] * 1000:.2f} ms")
        for name in ("first", "last", "after"):
            print(f"tables   ratio service/bare ({name}) = {ours[name] / bare[name]:.2f}, "
                  f"service/bare async = {ours[name] / bare_async[name]:.2f} (goal <= 1.5)")
        print(f"tables   on screen (tmux), 10M rows: open to first page {opened:.3f}s, End "
              f"to last page {last:.3f}s, PageDown p50 {percentile(downs, 0.5):.3f}s p95 "
              f"{percentile(downs, 0.95):.3f}s ({len(downs)} presses)")
        print(f"tables   ratio on screen vs bare: open {opened / bare['first']:.0f}, last "
              f"{last / bare['last']:.0f}, PageDown p50 "
              f"{percentile(downs, 0.5) / bare['after']:.0f} (the tmux harness polls every "
              "20 ms; see the note)")
        print(f"tables   ratio last page / first page: on screen {last / opened:.2f}, service "
              f"{ours['last'] / ours['first']:.2f} (goal <= 1.5)")
        print(f"tables   peak RSS: 10M rows {big['rss_mb']} MB, 10k rows {small['rss_mb']} MB, "
              f"ratio {big['rss_mb'] / small['rss_mb']:.2f} (goal <= 1.2)")
    finally:
        stack.remove()
