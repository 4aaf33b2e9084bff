"""The docker runtime end to end, on a real Docker engine with the offline images.

`.ci/run` starts the engine (scripts/start-docker-engine) and builds the images
(scripts/build-offline-images). Without them these tests are skipped, with the reason shown.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import psycopg
import pytest

from crestfall_tui.stack import DockerRuntime
from crestfall_tui.stack.model import ServiceState
from tests.helpers import OFFLINE_IMAGES, StackUnderTest, docker_stack, engine_problem, run_cli

problem = engine_problem(OFFLINE_IMAGES.values())
pytestmark = pytest.mark.skipif(problem is not None, reason=f"docker: {problem}")


@pytest.fixture(scope="module", name="docker_stack")
def docker_stack_fixture() -> Iterator[StackUnderTest]:
    with docker_stack("dockertest") as stack:
        yield stack


def states(runtime: DockerRuntime) -> dict[str, ServiceState]:
    return {s.name: s.state for s in runtime.status().services}


def test_docker_stack_lifecycle(docker_stack: StackUnderTest) -> None:
    """up (CLI, --exclude rest) → healthy, init scripts ran, Typesense ok, logs, restart db,
    down keeps data, down --volumes removes it."""
    runtime = docker_stack.runtime
    assert isinstance(runtime, DockerRuntime)
    done = docker_stack.cli("stack", "up", "--exclude", "rest", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "rest    excluded" in done.stderr
    report = {s["name"]: s for s in json.loads(
        docker_stack.cli("stack", "status", "--json").stdout)["services"]}
    assert report["db"]["state"] == "healthy" and report["search"]["state"] == "healthy"
    assert report["rest"]["state"] == "not installed"

    with psycopg.connect(runtime.db_url(), autocommit=True) as conn:
        scripts = {r[0] for r in conn.execute("select name from crestfall.init_scripts")}
        assert "20_auth.sql" in scripts
        assert conn.execute("select count(*) from pg_extension where extname = 'pg_cron'"
                            ).fetchone() == (1,)
        conn.execute("create table kept (v text); insert into kept values ('before down')")

    search = runtime.status().service("search")
    assert search.version == "0.24.1"
    assert any("AUDIT: SESSION" in line and "kept" in line for line in runtime.logs("db", 200))

    containers = runtime.client.containers.list(filters={
        "label": "com.docker.compose.project=crestfall-dockertest"})
    assert {c.labels["com.docker.compose.service"] for c in containers} == {"db", "search"}

    before = runtime.container("db").attrs["State"]["StartedAt"]
    runtime.restart("db")
    assert runtime.container("db").attrs["State"]["StartedAt"] != before
    assert states(runtime)["db"] == ServiceState.HEALTHY

    runtime.down()
    assert states(runtime)["db"] == ServiceState.DOWN
    runtime.up(exclude=frozenset({"rest"}))
    with psycopg.connect(runtime.db_url()) as conn:
        assert conn.execute("select v from kept").fetchall() == [("before down",)]

    refused = docker_stack.cli("stack", "down", "--volumes")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert docker_stack.cli("stack", "down", "--volumes", "--yes").returncode == 0
    assert not runtime.client.volumes.list(filters={
        "label": "com.docker.compose.project=crestfall-dockertest"})


def test_missing_image_names_image_and_variable(docker_stack: StackUnderTest) -> None:
    """An image that is not here and cannot be pulled: the error names it and its variable."""
    done = run_cli("stack", "up", "--stack", "dockertest", "--config",
                   str(docker_stack.config_path), "--exclude", "db", "--exclude", "rest",
                   env={"CRESTFALL_SEARCH_IMAGE": "crestfall-local/absent:1"})
    assert done.returncode == 1
    assert "image crestfall-local/absent:1 is not on this host" in done.stderr
    assert "CRESTFALL_SEARCH_IMAGE" in done.stderr and "Traceback" not in done.stderr
    assert docker_stack.runtime.container("search") is None  # nothing half-started


def test_failed_service_shows_logs_and_rolls_back(docker_stack: StackUnderTest) -> None:
    """A service that exits at start: its last log lines are shown, and what this up
    started is removed."""
    done = run_cli("stack", "up", "--stack", "dockertest", "--config",
                   str(docker_stack.config_path), "--exclude", "rest",
                   env={"CRESTFALL_SEARCH_IMAGE": OFFLINE_IMAGES["CRESTFALL_DB_IMAGE"]})
    assert done.returncode == 1
    assert "search exited" in done.stderr or "search not healthy" in done.stderr
    assert "last log lines" in done.stderr
    runtime = docker_stack.runtime
    assert runtime.container("search") is None and runtime.container("db") is None
    # The db image started as "search" made an anonymous volume; removing the container
    # removed it too (named volumes are kept by design).
    assert all(v.name.startswith("crestfall-") for v in runtime.client.volumes.list())


def test_auto_picks_docker_when_the_engine_answers(docker_stack: StackUnderTest,
                                                  tmp_path: object) -> None:
    """runtime = "auto" is docker when an engine answers."""
    from crestfall_tui.config import StackConfig
    from crestfall_tui.stack import choose_runtime

    choice = choose_runtime(StackConfig(name="auto-test", runtime="auto", exclude=("rest",),
                                        data_dir=str(tmp_path)))
    assert isinstance(choice.runtime, DockerRuntime) and choice.note == ""


def test_auto_runs_natively_when_images_are_missing(docker_stack: StackUnderTest,
                                                   tmp_path: object) -> None:
    """An engine that answers but lacks the stack's images: native, and the note says which."""
    from crestfall_tui.config import StackConfig
    from crestfall_tui.stack import NativeRuntime, choose_runtime

    choice = choose_runtime(StackConfig(name="auto-test", runtime="auto",
                                        data_dir=str(tmp_path)))
    assert isinstance(choice.runtime, NativeRuntime)
    assert "postgrest/postgrest" in choice.note and "runs natively" in choice.note


async def test_studio_deletes_volumes_after_asking(docker_stack: StackUnderTest) -> None:
    """In the studio on a docker stack, `D` asks for the stack's name to be typed (a wrong
    one, or one key, deletes nothing), then stops the stack and deletes its data."""
    from crestfall_tui.app import CrestfallApp
    from crestfall_tui.modals import PromptModal
    from tests.drivers import state_of, until

    runtime = docker_stack.runtime
    assert isinstance(runtime, DockerRuntime)
    runtime.up(exclude=frozenset({"rest"}))
    app = CrestfallApp(docker_stack.stack, runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "healthy" in state_of(app, "search"), within=60)
        await app.workers.wait_for_complete()
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, PromptModal))
        assert "lost for good" in str(app.screen.query_one("Label").render())
        await pilot.press("y", "enter")
        await until(pilot, lambda: not isinstance(app.screen, PromptModal))
        await pilot.pause(0.5)
        assert runtime.client.volumes.list(filters={
            "label": "com.docker.compose.project=crestfall-dockertest"})
        assert "healthy" in state_of(app, "db")
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press(*"dockertest", "enter")
        await until(pilot, lambda: "down" in state_of(app, "db"), within=60)
        await until(pilot, lambda: not app.screen.busy, within=60)
    assert not runtime.client.volumes.list(filters={
        "label": "com.docker.compose.project=crestfall-dockertest"})


def test_auto_keeps_the_runtime_a_stack_was_started_with(tmp_path: object) -> None:
    """A stack brought up natively stays native under `auto`, even when an engine answers."""
    from pathlib import Path

    from crestfall_tui.config import StackConfig
    from crestfall_tui.stack import NativeRuntime, choose_runtime
    from crestfall_tui.stack.runtime import record_runtime

    stack = StackConfig(name="sticky", runtime="auto", data_dir=str(Path(str(tmp_path))),
                        exclude=("rest",))
    assert isinstance(choose_runtime(stack).runtime, DockerRuntime)
    record_runtime(stack, "native")
    assert isinstance(choose_runtime(stack).runtime, NativeRuntime)


def test_follow_logs_streams_new_lines(docker_stack: StackUnderTest) -> None:
    """Following db's log yields a line written after the follow began."""
    import threading

    runtime = docker_stack.runtime
    assert isinstance(runtime, DockerRuntime)
    runtime.up()
    lines = runtime.follow_logs("db")
    seen: list[str] = []

    def read() -> None:
        for line in lines:
            seen.append(line)
            if "followed_marker" in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with psycopg.connect(runtime.db_url(), autocommit=True) as conn:
        conn.execute("create table followed_marker (id int)")
    reader.join(timeout=20)
    lines.close()
    assert any("followed_marker" in line for line in seen)


def test_socket_permission_denied_is_explained(tmp_path: object) -> None:
    """A Docker socket the user may not open gets one message saying so, not a traceback."""
    import pwd
    import socket
    import subprocess
    from pathlib import Path

    from tests.helpers import BINARY

    if os.geteuid() != 0:
        pytest.skip("needs root to hand the socket to another user")
    path = Path(str(tmp_path)) / "docker.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        other = pwd.getpwnam("postgres")
        os.chown(path, other.pw_uid, other.pw_gid)
        path.chmod(0o600)
        # Still root, but with no capabilities: file permissions apply as to anyone else.
        config = Path(str(tmp_path)) / "config.toml"
        config.write_text(f'[stacks.local]\ndata_dir = "{Path(str(tmp_path)) / "data"}"\n')
        done = subprocess.run(
            ["setpriv", "--bounding-set=-all", str(BINARY), "stack", "status",
             "--runtime", "docker", "--config", str(config)],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "DOCKER_HOST": f"unix://{path}"})
    assert done.returncode == 1, done.stderr
    assert "permission denied on the Docker socket" in done.stderr
    assert "Traceback" not in done.stderr
