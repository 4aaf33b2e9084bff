"""The Cron section's reads on 1,000 jobs with 1,000,000 runs, side by side in one run, in
process: the service (`Cron`) against the bare SQL that reads the same rows on the same
indexes, on an open psycopg connection of its own.

    .venv/bin/python -m bench.run --only cron [--runs 20]

The jobs list (each job's last run, first run and 24 hours), a job's first history page
and a page deep in it (by key), and the failed runs across jobs; then the list as the
section opens it (the rows, plus each job's next run, schedule in words and health), whose
goal is under 100 ms with the offered indexes in place. The list is also timed once before
the indexes are made, and its plan is checked on EXPLAIN.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

JOBS = 1_000
RUNS = 1_000_000
SEED = """
insert into cron.job (jobname, schedule, command, database, username, active)
select 'bench-' || g, (g %% 60) || ' ' || (g %% 24) || ' ' || (1 + g %% 28) || ' '
       || %(month)s || ' *', 'select ' || g, current_database(), current_user, true
from generate_series(1, %(jobs)s) g;
insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status,
    return_message, start_time, end_time)
select j.jobid, nextval('cron.runid_seq'), 1000 + g %% 30000, 'postgres', 'postgres',
       j.command, case when g %% 20 = 0 then 'failed' else 'succeeded' end,
       case when g %% 20 = 0 then 'ERROR: boom' else 'SELECT 1' end,
       now() - (%(runs)s - g) * interval '1 second',
       now() - (%(runs)s - g) * interval '1 second' + interval '150 milliseconds'
from generate_series(1, %(runs)s) g
join (select jobid, command, row_number() over (order by jobid) - 1 as n from cron.job
      where jobname like 'bench-%%') j on j.n = g %% %(jobs)s
"""
"""1,000 active jobs that never fire during the run (their month is never this one), and a
run every second for 11.6 days, round robin over the jobs (86,400 in the last 24 hours)."""
PAGE = """select d.runid, d.jobid, d.status, d.return_message, d.start_time, d.end_time,
    d.job_pid from cron.job_run_details d where {} order by d.runid desc limit 100"""


def seed(url: str) -> None:
    import psycopg

    started = time.monotonic()
    month = (datetime.now(UTC).month + 5) % 12 + 1
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in SEED.split(";"):
            conn.execute(statement, {"jobs": JOBS, "runs": RUNS, "month": month})
        # Settled before timing: autovacuum would otherwise visit the new rows mid-run.
        conn.execute("vacuum analyze cron.job_run_details")
        conn.execute("vacuum analyze cron.job")
    print(f"cron     seeded {JOBS:,} jobs, {RUNS:,} runs in "
          f"{time.monotonic() - started:.0f}s", flush=True)


async def measure(url: str, postgres: Any, runs: int) -> None:
    import psycopg

    from bench.side_by_side import medians
    from crestfall_tui.services.cron import _JOBS, Cron

    cron = Cron(postgres)
    bare = await psycopg.AsyncConnection.connect(url, autocommit=True)

    async def bare_rows(statement: str, params: tuple[Any, ...] = ()) -> None:
        await (await bare.execute(statement, params)).fetchall()  # type: ignore[arg-type]

    started = time.perf_counter()
    await cron.jobs()
    print(f"cron     jobs list before the offered indexes: "
          f"{(time.perf_counter() - started) * 1000:.0f} ms (one run)", flush=True)
    made = await cron.create_indexes()
    await bare.execute("vacuum analyze cron.job_run_details")

    print(f"cron     made {len(made)} index(es)", flush=True)

    jobs = await cron.jobs()
    job = jobs[len(jobs) // 2]
    deep = await cron.history(job.id)
    for _ in range(5):
        deep = await cron.history(job.id, after=deep.after)
    assert deep.after is not None
    key = deep.after[0]
    list_sql = _JOBS + " order by j.jobid"
    cases: dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]] = {
        "jobs list": (cron.jobs, lambda: bare_rows(list_sql)),
        "job history, first page": (
            lambda: cron.history(job.id),
            lambda: bare_rows(PAGE.format("d.jobid = %s"), (job.id,))),
        "job history, page 7 by key": (
            lambda: cron.history(job.id, after=deep.after),
            lambda: bare_rows(PAGE.format("d.jobid = %s and d.runid < %s"), (job.id, key))),
        "failed runs, all jobs": (
            lambda: cron.history(failed=True),
            lambda: bare_rows(PAGE.format("d.status = 'failed'"))),
    }
    try:
        for name, (ours, theirs) in cases.items():
            mine, floor = await medians(ours, theirs, runs)
            print(f"cron     {name}: ours {mine * 1000:.2f} ms, bare SQL {floor * 1000:.2f} ms,"
                  f" ratio {mine / floor:.2f} (goal <= 1.5)", flush=True)
        zone = await cron.zone()

        async def list_opened(frequent: bool = False) -> None:
            for each in await cron.jobs():
                if frequent:
                    each = replace(each, schedule=f"*/{1 + each.id % 10} * * * *")
                each.next_runs(zone, count=1)
                _ = each.words
                each.health(zone=zone)

        for label, frequent in (("as the section opens it", False),
                                ("with every job on a */1 to */10 minute schedule", True)):
            samples = []
            for _ in range(max(runs // 2, 5)):
                started = time.perf_counter()
                await list_opened(frequent)
                samples.append(time.perf_counter() - started)
            samples.sort()
            print(f"cron     jobs list {label} (rows, next run, words, health): median "
                  f"{samples[len(samples) // 2] * 1000:.0f} ms (goal < 100 ms)", flush=True)
        plan = "\n".join(str(r[0]) for r in await (await bare.execute(
            "explain " + list_sql)).fetchall())  # type: ignore[arg-type]
        scans = "SEQUENTIAL SCAN" if "Seq Scan on job_run_details" in plan else "index"
        print(f"cron     plan of the jobs list: {scans}", flush=True)
    finally:
        await cron.close()
        await bare.close()


def bench_cron(runs: int, make_stack: Callable[[str], Any]) -> None:
    from bench.side_by_side import on_fresh_stack

    on_fresh_stack("benchc", make_stack, seed, measure, runs)
