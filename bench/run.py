"""Benchmarks, measured side by side in one run; prints medians and ratios.

    .venv/bin/python bench/run.py [--runs 5] [--only startup|cold]

startup: launch to the Stack screen showing every service healthy (stack already up), against
         harlequin connecting to the same Postgres (from bench/.venv; see bench/README.md).
cold:    `crestfall-tui stack up` on an empty data dir, against the raw service starts done
         by hand (initdb + pg_ctl start + Typesense start, until each answers).
docker:  the docker runtime's `up` (existing volumes, offline images) until db and search are
         healthy, against the same containers started directly with docker-py and polled.
tables:  the Tables screen on 10,000,000 rows: open, last page, PageDown p50/p95, RSS
         against 10,000 rows, and the same pages by a bare psycopg query (bench/tables.py).
scripts: a 50 MB script of 560,000 inserts by `crestfall-tui query -f` against `psql -f`:
         time and peak RSS (bench/scripts.py).
users:   the Users section's reads on 1,000,000 users and 2,000,000 sessions (first and
         last page, an email-prefix search, a detail panel) against the bare SQL reading the
         same rows, in process (bench/users.py).
cron:    the Cron section's reads on 1,000 jobs and 1,000,000 runs (the jobs list, a job's
         history by key, failed runs) against the bare SQL reading the same rows, in
         process, and the list as the section opens it (bench/cron.py).
query:   `select * from big` (1,000,000 rows): from pressing run to the first rows on screen,
         and peak RSS, for crestfall-tui, harlequin and pgcli in tmux; and a bare psycopg
         server-side cursor's first batch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crestfall_tui.config import load_config  # noqa: E402
from crestfall_tui.stack.docker import DockerRuntime  # noqa: E402
from crestfall_tui.stack.native_db import find_bindir  # noqa: E402
from crestfall_tui.stack.native_search import typesense_binary  # noqa: E402
from crestfall_tui.stack.processes import ServiceUser, free_port, wait_for  # noqa: E402
from tests.helpers import BINARY, engine_problem, make_stack  # noqa: E402

TIMER = REPO.parent / "shared" / "tools" / "tui_timer.py"
HARLEQUIN = REPO / "bench" / ".venv" / "bin" / "harlequin"
HEALTHY_SCREEN = r"db\s+● healthy(.|\n)*search\s+● healthy"


def tui_median(cmd: str, wait_for_screen: str, runs: int) -> dict[str, float]:
    """Median seconds to `wait_for_screen` and peak RSS, from the shared tmux timer."""
    done = subprocess.run(
        [sys.executable, str(TIMER), "--cmd", cmd, "--wait-for", wait_for_screen,
         "--timeout", "60", "--size", "120x36", "--runs", str(max(runs, 2))],
        capture_output=True, text=True, check=False)
    summary = next((line for line in done.stdout.splitlines() if line.startswith("SUMMARY ")), "")
    if not summary:
        raise SystemExit(f"timer failed for {cmd}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    data = json.loads(summary.removeprefix("SUMMARY "))
    return {"median_s": data["steps"]["0"]["median_s"],
            "rss_mb": data["peak_tree_rss_mb"]["median"]}


def bench_startup(runs: int) -> None:
    stack = make_stack("bench")
    try:
        stack.runtime.up()
        ours = tui_median(f"{BINARY} --stack bench --config {stack.config_path}",
                          HEALTHY_SCREEN, runs)
        print(f"startup  crestfall-tui to all healthy: median {ours['median_s']:.3f}s, "
              f"RSS {ours['rss_mb']} MB")
        if not HARLEQUIN.exists():
            print("startup  harlequin not installed in bench/.venv: no ratio (see bench/README.md)")
            return
        peer = tui_median(f"{HARLEQUIN} -a postgres '{stack.runtime.db_url()}'",
                          "Query Editor", runs)
        print(f"startup  harlequin to its editor:      median {peer['median_s']:.3f}s, "
              f"RSS {peer['rss_mb']} MB")
        print(f"startup  ratio crestfall/harlequin = {ours['median_s'] / peer['median_s']:.2f} "
              f"(goal <= 0.5)")
    finally:
        stack.remove()


def crestfall_cold_up() -> float:
    stack = make_stack("cold")
    try:
        started = time.perf_counter()
        done = stack.cli("stack", "up")
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        return elapsed
    finally:
        stack.remove()


def raw_cold_up() -> float:
    """initdb + pg_ctl start + Typesense start by hand, with the same settings that matter."""
    bindir, typesense = find_bindir(), typesense_binary()
    assert bindir is not None and typesense is not None
    user = ServiceUser.for_postgres()
    root = Path(tempfile.mkdtemp(prefix="crestfall-raw-"))
    root.chmod(0o755)
    pg_dir, ts_dir = root / "pg", root / "ts"
    pg_dir.mkdir()
    user.own(pg_dir)
    pwfile = pg_dir / "pw"
    pwfile.write_text("secret\n")
    user.own(pwfile)
    db_port, ts_port, peer_port = free_port(), free_port(), free_port()
    process = None
    try:
        started = time.perf_counter()
        user.run([str(bindir / "initdb"), "-D", str(pg_dir / "data"), "-U", "postgres",
                  f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8",
                  "--locale=C.UTF-8"], timeout=300).check_returncode()
        user.run([str(bindir / "pg_ctl"), "-D", str(pg_dir / "data"), "-l",
                  str(pg_dir / "log"), "-w", "-o",
                  f"-p {db_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
                  "start"], timeout=120).check_returncode()
        (ts_dir / "data").mkdir(parents=True)
        process = subprocess.Popen(
            [str(typesense), f"--data-dir={ts_dir / 'data'}", "--api-key=k",
             "--api-address=127.0.0.1", f"--api-port={ts_port}",
             "--peering-address=127.0.0.1", f"--peering-port={peer_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def search_ok() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{ts_port}/health").json().get("ok") is True
            except (httpx.HTTPError, ValueError):
                return False

        wait_for(search_ok, 60)
        return time.perf_counter() - started
    finally:
        if process:
            process.terminate()
            process.wait()
        user.run([str(bindir / "pg_ctl"), "-D", str(pg_dir / "data"), "-m", "immediate",
                  "stop"], timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def bench_cold(runs: int) -> None:
    ours, raw = [], []
    for _ in range(runs):  # interleaved, so both see the same machine load
        ours.append(crestfall_cold_up())
        raw.append(raw_cold_up())
    mine, floor = statistics.median(ours), statistics.median(raw)
    print(f"cold     crestfall-tui stack up (empty data dir): median {mine:.3f}s "
          f"[{min(ours):.2f}-{max(ours):.2f}]")
    print(f"cold     raw initdb + pg_ctl start + typesense:   median {floor:.3f}s "
          f"[{min(raw):.2f}-{max(raw):.2f}]")
    print(f"cold     ratio crestfall/raw = {mine / floor:.2f} (goal <= 1.3)")


DOCKER_IMAGES = {"CRESTFALL_DB_IMAGE": "crestfall-local/db:15",
                 "CRESTFALL_SEARCH_IMAGE": "crestfall-local/search:0.24.1"}


def raw_docker_up(runtime: DockerRuntime) -> float:
    """db and search started with plain docker-py calls on the runtime's volumes, on a network
    of their own, polled for health every 0.1 s; the same images, settings, healthchecks."""
    client, secrets, ports = runtime.client, runtime.secrets, runtime.stack.ports
    check = {"interval": 1_000_000_000, "timeout": 3_000_000_000, "retries": 60,
             "start_period": 60_000_000_000}
    created = []
    started = time.perf_counter()
    network = client.networks.create("bench-raw", driver="bridge")
    try:
        created.append(client.containers.run(
            DOCKER_IMAGES["CRESTFALL_DB_IMAGE"], name="bench-raw-db", detach=True,
            environment={"POSTGRES_PASSWORD": secrets.postgres_password,
                         "POSTGRES_DB": "postgres"},
            ports={"5432/tcp": ("127.0.0.1", ports.db)}, network=network.name,
            stop_signal="SIGINT",
            volumes={runtime.volume_name("db-data"): {"bind": "/var/lib/postgresql/data",
                                                       "mode": "rw"}},
            healthcheck={"test": ["CMD-SHELL", "pg_isready -q -h 127.0.0.1 -p 5432 -U postgres"],
                         **check}))
        created.append(client.containers.run(
            DOCKER_IMAGES["CRESTFALL_SEARCH_IMAGE"], name="bench-raw-search", detach=True,
            environment={"TYPESENSE_API_KEY": secrets.search_api_key,
                         "TYPESENSE_DATA_DIR": "/data", "TYPESENSE_API_PORT": "8108",
                         "TYPESENSE_PEERING_ADDRESS": "127.0.0.1"},
            ports={"8108/tcp": ("127.0.0.1", ports.search)}, network=network.name,
            volumes={runtime.volume_name("search-data"): {"bind": "/data", "mode": "rw"}},
            healthcheck={"test": ["CMD-SHELL", "wget -q -O - http://127.0.0.1:8108/health | "
                                  "grep -q '\"ok\":true'"], **check}))
        for container in created:
            while True:
                container.reload()
                if container.attrs["State"].get("Health", {}).get("Status") == "healthy":
                    break
                time.sleep(0.1)
        return time.perf_counter() - started
    finally:
        for container in reversed(created):
            container.stop(timeout=10)
            container.remove(v=True)
        network.remove()


def bench_docker(runs: int) -> None:
    problem = engine_problem(DOCKER_IMAGES.values())
    if problem:
        print(f"docker   skipped: {problem}")
        return
    os.environ.update(DOCKER_IMAGES)
    stack = make_stack("benchdock")
    stack.config_path.write_text(stack.config_path.read_text().replace(
        'runtime = "native"', 'runtime = "docker"\nexclude = ["rest"]'))
    runtime = DockerRuntime(load_config(stack.config_path).stack("benchdock"))
    ours, raw = [], []
    try:
        runtime.up()  # volumes, init scripts: the timed runs start on existing volumes
        runtime.down()
        for _ in range(runs):
            started = time.perf_counter()
            runtime.up()
            ours.append(time.perf_counter() - started)
            runtime.down()
            raw.append(raw_docker_up(runtime))
    finally:
        runtime.down(volumes=True)
        shutil.rmtree(stack.root, ignore_errors=True)
    mine, floor = statistics.median(ours), statistics.median(raw)
    print(f"docker   runtime up (existing volumes) to healthy: median {mine:.3f}s "
          f"[{min(ours):.2f}-{max(ours):.2f}]")
    print(f"docker   docker-py containers.run + health polls:  median {floor:.3f}s "
          f"[{min(raw):.2f}-{max(raw):.2f}]")
    print(f"docker   ratio runtime/docker-py = {mine / floor:.2f} (goal <= 1.2)")


PGCLI = REPO / "bench" / ".venv" / "bin" / "pgcli"
BIG_ROW = "[0-9a-f]{32}"  # an md5 `name`: only data rows show one
BIG_TABLE = """
create table if not exists big as
select g::bigint as id, md5(g::text) as name, (g * 7) % 1000 as qty,
       timestamptz '2026-01-01' + g * interval '1 second' as created_at,
       jsonb_build_object('n', g, 'tags', jsonb_build_array('crest', 'fall')) as meta
from generate_series(1, 1000000) g
"""


def tui_step(cmd: str, ready: str, keys: str, rows: str, runs: int,
             env: dict[str, str] | None = None) -> dict[str, float]:
    """Median seconds from the last key to `rows` on screen, and peak RSS, via tui_timer."""
    args = [sys.executable, str(TIMER), "--cmd", cmd, "--wait-for", ready, "--keys", keys,
            "--then-wait-for", rows, "--timeout", "120", "--size", "160x40",
            "--runs", str(max(runs, 2))]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    summary = next((line for line in done.stdout.splitlines() if line.startswith("SUMMARY ")), "")
    if not summary or "1" not in json.loads(summary.removeprefix("SUMMARY "))["steps"]:
        raise SystemExit(f"timer failed for {cmd}:\n{done.stdout[-3000:]}\n{done.stderr[-1000:]}")
    data = json.loads(summary.removeprefix("SUMMARY "))
    return {"median_s": data["steps"]["1"]["median_s"],
            "rss_mb": data["peak_tree_rss_mb"]["median"]}


def bare_cursor_first_batch(url: str, runs: int) -> float:
    """psycopg's floor: connect is not counted; DECLARE + the first fetchmany(500)."""
    import psycopg

    times = []
    with psycopg.connect(url) as conn:
        for _ in range(max(runs, 2)):
            started = time.perf_counter()
            with conn.transaction(), conn.cursor(name="floor") as cursor:
                cursor.execute("select * from big")
                cursor.fetchmany(500)
                times.append(time.perf_counter() - started)
    return statistics.median(times)


def session_first_batch(url: str, runs: int) -> float:
    """The Query screen's session: from run to its first batch of rows (the same cursor,
    plus statement splitting, the role scope and the result's columns)."""
    import asyncio

    from crestfall_tui.clients.postgres import PostgresClient
    from crestfall_tui.services.query_session import QuerySession, RowBatch
    from crestfall_tui.services.sql_text import split_statements

    async def measure() -> float:
        session = QuerySession(PostgresClient(lambda: url))
        await session.warm_up()
        times = []
        for _ in range(max(runs, 2)):
            started = time.perf_counter()
            events = session.run(split_statements("select * from big")[0])
            async for event in events:
                if isinstance(event, RowBatch):
                    times.append(time.perf_counter() - started)
                    break
            await events.aclose()
        await session.close()
        return statistics.median(times)

    return asyncio.run(measure())


def bench_query(runs: int) -> None:
    import psycopg

    stack = make_stack("benchq")
    try:
        stack.runtime.up()
        url = stack.runtime.db_url()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(BIG_TABLE)
            conn.execute("vacuum analyze big")
        floor = bare_cursor_first_batch(url, runs)
        session_first = session_first_batch(url, runs)
        ours = tui_step(f"{BINARY} --stack benchq --config {stack.config_path}",
                        "healthy", "{F3}{sleep:0.5}select * from big{wait:from big}{C-j}",
                        BIG_ROW, runs)
        print(f"query    bare psycopg server cursor, first 500 rows: median {floor:.3f}s")
        print(f"query    crestfall-tui run to first rows: median {ours['median_s']:.3f}s, "
              f"peak RSS {ours['rss_mb']} MB")
        print(f"query    session (in process) run to first batch: median {session_first:.3f}s, "
              f"ratio session/bare cursor = {session_first / floor:.2f} (goal <= 2)")
        print(f"query    ratio on screen/bare cursor = {ours['median_s'] / floor:.2f} (the tmux "
              "harness polls every 20 ms, so a screen cannot show a 3 ms floor)")
        peer = tui_step(f"psql -P pager=off -v FETCH_COUNT=500 '{url}'", r"=#",
                        "select * from big;{Enter}", BIG_ROW, runs)
        print(f"query    psql (FETCH_COUNT=500, no pager) to first rows: median "
              f"{peer['median_s']:.3f}s, peak RSS {peer['rss_mb']} MB; ratio crestfall/psql: "
              f"time {ours['median_s'] / peer['median_s']:.2f}")
        if HARLEQUIN.exists():
            peer = tui_step(f"{HARLEQUIN} -a postgres '{url}'", "Query Editor",
                            "select * from big{wait:from big}{C-j}", BIG_ROW, runs)
            print(f"query    harlequin run to first rows: median {peer['median_s']:.3f}s, "
                  f"peak RSS {peer['rss_mb']} MB")
            time_ratio = ours["median_s"] / peer["median_s"]
            print(f"query    ratio crestfall/harlequin: time {time_ratio:.3f} (goal <= 0.05), "
                  f"RSS {ours['rss_mb'] / peer['rss_mb']:.3f} (goal <= 0.2)")
        if PGCLI.exists():
            peer = tui_step(f"{PGCLI} --less-chatty '{url}'", r"> $|postgres>",
                            "select * from big{Enter}", BIG_ROW, runs,
                            env={"PAGER": "less -SRXF"})
            print(f"query    pgcli run to first rows: median {peer['median_s']:.3f}s, "
                  f"peak RSS {peer['rss_mb']} MB")
            time_ratio = ours["median_s"] / peer["median_s"]
            print(f"query    ratio crestfall/pgcli: time {time_ratio:.3f}, "
                  f"RSS {ours['rss_mb'] / peer['rss_mb']:.3f}")
    finally:
        stack.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("startup", "cold", "docker", "query", "tables",
                                           "scripts", "export", "users", "cron"))
    parser.add_argument("--statements", type=int, default=560_000,
                        help="inserts in the scripts benchmark's file (560,000: about 50 MB)")
    args = parser.parse_args()
    # Never the developer's own config: an empty one (a named config must exist).
    empty = Path(tempfile.mkdtemp()) / "crestfall.toml"
    empty.write_text("")
    os.environ.setdefault("CRESTFALL_CONFIG", str(empty))
    if args.only in (None, "startup"):
        bench_startup(args.runs)
    if args.only in (None, "cold"):
        bench_cold(args.runs)
    if args.only in (None, "docker"):
        bench_docker(args.runs)
    if args.only in (None, "query"):
        bench_query(args.runs)
    if args.only in (None, "tables"):
        from bench.tables import bench_tables

        bench_tables(args.runs, TIMER, BINARY)
    if args.only in (None, "scripts"):
        from bench.scripts import bench_scripts

        bench_scripts(args.runs, BINARY, make_stack, args.statements)
    if args.only in (None, "export"):
        from bench.export import bench_export

        bench_export(args.runs, TIMER, BINARY, make_stack)
    if args.only in (None, "users"):
        from bench.users import bench_users

        bench_users(args.runs, make_stack)
    if args.only in (None, "cron"):
        from bench.cron import bench_cron

        bench_cron(args.runs, make_stack)


if __name__ == "__main__":
    main()
