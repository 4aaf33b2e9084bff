"""The docker runtime's `up` behaves as `docker compose up` does, on a real engine with the
offline images: recreate on a changed configuration (saying what changed), start a stopped
container again (the same one, its logs kept), check images and ports before touching
anything, leave nothing behind after a failed `up`, and a status that tells the truth about
an excluded service that still runs."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import psycopg
import pytest

from crestfall_tui.errors import ServiceError
from crestfall_tui.stack import DockerRuntime
from crestfall_tui.stack.model import ServiceState
from tests.helpers import OFFLINE_IMAGES, StackUnderTest, docker_stack, engine_problem

problem = engine_problem(OFFLINE_IMAGES.values())
pytestmark = pytest.mark.skipif(problem is not None, reason=f"docker: {problem}")


@pytest.fixture(scope="module")
def compose_stack() -> Iterator[StackUnderTest]:
    with docker_stack("composetest") as stack:
        yield stack


def _runtime(stack: StackUnderTest) -> DockerRuntime:
    assert isinstance(stack.runtime, DockerRuntime)
    return stack.runtime


def _id(runtime: DockerRuntime, service: str) -> str | None:
    container = runtime.container(service)
    return None if container is None else str(container.id)


def test_a_first_start_runs_the_init_scripts_once_and_quietly(
        compose_stack: StackUnderTest) -> None:
    """On a new database the init scripts run once, by crestfall-tui (the image's entrypoint
    runs none of them), and pgaudit does not log their statements (it wrote thousands of
    lines, each with a whole script, before)."""
    runtime = _runtime(compose_stack)
    runtime.down(volumes=True)
    lines: list[str] = []
    runtime.up(progress=lambda p: lines.append(f"{p.service}: {p.message}"))
    assert any(line.startswith("db: ran init scripts: 00_extensions.sql") for line in lines)
    log = runtime.logs("db", 20000)
    assert not any("docker-entrypoint-initdb.d" in line for line in log)
    audited = [line for line in log if "AUDIT:" in line]
    assert not any("auth.users" in line or "crestfall.init_scripts" in line
                   for line in audited), audited[:3]
    assert len(log) < 300, len(log)
    with psycopg.connect(runtime.db_url()) as conn:
        names = [r[0] for r in conn.execute("select name from crestfall.init_scripts")]
    assert sorted(names) == sorted(set(names)) and "40_audit.sql" in names


def test_a_busy_port_fails_up_before_anything_is_created(compose_stack: StackUnderTest) -> None:
    """The db port taken by another program: `up` names the port and the config key, exits
    1, and no container is left in Created."""
    runtime = _runtime(compose_stack)
    runtime.down()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", compose_stack.stack.ports.db))
        squatter.listen()
        done = compose_stack.cli("stack", "up", timeout=120)
    assert done.returncode == 1, done.stderr
    assert f"port {compose_stack.stack.ports.db} on 127.0.0.1 is in use" in done.stderr
    assert "ports.db" in done.stderr and "Traceback" not in done.stderr
    assert runtime.container("db") is None and runtime.container("search") is None


def test_kill_then_up_starts_the_same_container(compose_stack: StackUnderTest) -> None:
    """After `docker kill`, up starts the container again (same id, its logs kept), as
    compose does; with nothing changed, a second up keeps everything."""
    runtime = _runtime(compose_stack)
    runtime.up()
    db = _id(runtime, "db")
    container = runtime.container("db")
    assert container is not None
    container.kill()
    lines: list[str] = []
    runtime.up(progress=lambda p: lines.append(f"{p.service}: {p.message}"))
    assert _id(runtime, "db") == db
    assert "db: starting its stopped container (configuration unchanged)" in lines
    assert any("database system is ready" in line for line in runtime.logs("db", 500))
    lines.clear()
    runtime.up(progress=lambda p: lines.append(f"{p.service}: {p.message}"))
    assert {"db: already running", "search: already running"} <= set(lines)


def test_a_changed_image_recreates_and_says_why(compose_stack: StackUnderTest) -> None:
    """Another image for db: `up` recreates it, saying its image changed; the data stays."""
    runtime = _runtime(compose_stack)
    runtime.up()
    with psycopg.connect(runtime.db_url(), autocommit=True) as conn:
        conn.execute("create table if not exists survives (v text)")
        conn.execute("insert into survives values ('kept')")
    old = _id(runtime, "db")
    runtime.client.images.get(OFFLINE_IMAGES["CRESTFALL_DB_IMAGE"]).tag("crestfall-local/db",
                                                                "15-retagged")
    try:
        done = compose_stack.cli("stack", "up", timeout=180,
                                 env={"CRESTFALL_DB_IMAGE": "crestfall-local/db:15-retagged"})
        assert done.returncode == 0, done.stderr
        assert "recreating: its image changed" in done.stderr
        assert _id(runtime, "db") != old
        with psycopg.connect(runtime.db_url()) as conn:
            assert conn.execute("select v from survives").fetchall() == [("kept",)]
    finally:
        runtime.up()  # back on the usual image
        runtime.client.images.remove("crestfall-local/db:15-retagged")


def test_a_missing_image_changes_nothing(compose_stack: StackUnderTest) -> None:
    """db stopped, a missing image set: `up` fails on the image before removing anything,
    so the stopped container (and its logs) are still there."""
    runtime = _runtime(compose_stack)
    runtime.up()
    container = runtime.container("db")
    assert container is not None
    container.stop()
    done = compose_stack.cli("stack", "up", timeout=120, env={"CRESTFALL_DB_IMAGE": "nope:1"})
    assert done.returncode == 1
    assert "image nope:1 is not on this host" in done.stderr
    assert "nothing was changed" in done.stderr
    assert _id(runtime, "db") == container.id


def test_status_tells_the_truth_about_an_excluded_service_that_runs(
        compose_stack: StackUnderTest) -> None:
    """`up --exclude search` with search running: up says its container still runs, and
    status reports it running (not "not installed")."""
    runtime = _runtime(compose_stack)
    runtime.up()
    done = compose_stack.cli("stack", "up", "--exclude", "search", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "its container from an earlier up still runs" in done.stderr
    search = runtime.status().service("search")
    assert search.state == ServiceState.HEALTHY
    assert "excluded from this stack, but its container" in search.detail
    runtime.down()
    assert runtime.status().service("search").state == ServiceState.NOT_INSTALLED
    runtime.up()  # search is no longer excluded: the next up brings it back
    assert runtime.status().service("search").state == ServiceState.HEALTHY


def test_excluding_db_leaves_out_what_depends_on_it(compose_stack: StackUnderTest) -> None:
    """`--exclude db` on a stack that does not exclude rest: up says that rest depends on
    db and is left out too, and starts only search."""
    from dataclasses import replace

    _runtime(compose_stack).down()
    runtime = DockerRuntime(replace(compose_stack.stack, exclude=()))
    lines: list[str] = []
    try:
        runtime.up(progress=lambda p: lines.append(f"{p.service}: {p.message}"),
                   exclude=frozenset({"db"}))
        assert "db: excluded (rest depends on it, so left out too)" in lines
        assert "rest: excluded: it depends on db, which is left out" in lines
        assert runtime.container("db") is None and runtime.container("rest") is None
        assert runtime.container("search") is not None
    finally:
        runtime.down()


def test_a_missing_rest_image_advises_leaving_rest_out(compose_stack: StackUnderTest) -> None:
    """PostgREST cannot be built offline: its missing image's message says to exclude it
    (not to build it), and nothing was started."""
    from dataclasses import replace

    _runtime(compose_stack).down()
    runtime = DockerRuntime(replace(compose_stack.stack, exclude=()))
    os.environ["CRESTFALL_REST_IMAGE"] = "crestfall-local/absent-rest:1"
    try:
        with pytest.raises(ServiceError) as failed:
            runtime.up()
        message = failed.value.message
        assert "image crestfall-local/absent-rest:1 is not on this host" in message
        assert "--exclude rest" in message and "build-offline-images" not in message
        assert runtime.container("db") is None and runtime.container("rest") is None
    finally:
        os.environ.pop("CRESTFALL_REST_IMAGE", None)


def test_restart_of_an_excluded_service_says_so(compose_stack: StackUnderTest) -> None:
    done = compose_stack.cli("stack", "restart", "rest", timeout=60)
    assert done.returncode != 0
    assert "rest is excluded from stack 'composetest'" in done.stderr


def test_two_ups_at_once_both_succeed(compose_stack: StackUnderTest) -> None:
    """Two `up`s at the same time on a stopped stack: the second waits for the first (the
    per-stack lock) and finds it running; no Docker name conflict."""
    import subprocess

    from tests.helpers import BINARY

    runtime = _runtime(compose_stack)
    runtime.down()
    command = [str(BINARY), "stack", "up", "--stack", "composetest", "--config",
               str(compose_stack.config_path)]
    both = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    results = [(process.wait(timeout=180), process.stderr.read() if process.stderr else "")
               for process in both]
    assert [code for code, _ in results] == [0, 0], results
    assert not any("Conflict" in err or "Traceback" in err for _, err in results)
    assert any("already running" in err for _, err in results)


def test_purge_leaves_no_file_behind(compose_stack: StackUnderTest) -> None:
    """`down --volumes --yes` says what the data dir still holds (secrets, the action log
    with row values, the query history); with `--purge` none of it is left."""
    from crestfall_tui.services.action_log import ActionLog, Write
    from crestfall_tui.services.query_history import HistoryEntry, QueryHistory

    runtime = _runtime(compose_stack)
    data = compose_stack.stack.data_path
    runtime.up()
    ActionLog("composetest", data).record(Write("update t set v = 'secret row value'"))
    QueryHistory(data).add(HistoryEntry.now("select 1", 0.1, 1))
    done = compose_stack.cli("stack", "down", "--volumes", "--yes", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "secrets.json" in done.stderr and "actions.jsonl" in done.stderr
    assert "query-history.jsonl" in done.stderr and "--purge" in done.stderr
    refused = compose_stack.cli("stack", "down", "--purge", timeout=60)
    assert refused.returncode == 2 and "--volumes" in refused.stderr
    done = compose_stack.cli("stack", "down", "--volumes", "--yes", "--purge", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "purged" in done.stderr
    assert not data.exists() or not any(data.iterdir())
