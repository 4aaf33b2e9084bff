"""An engine that stops answering in the middle of an operation: one clear error naming the
operation, never docker-py's traceback. A real docker-py client, on a socket nobody serves
(what a client holds after its engine died); no engine needed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import pytest

from crestfall_tui.config import load_config
from crestfall_tui.stack import DockerRuntime
from crestfall_tui.stack.docker_engine import EngineError
from tests.helpers import make_stack


@contextmanager
def on_a_dead_engine(name: str, tmp_path: Path) -> Iterator[DockerRuntime]:
    """A docker stack whose client talks to a socket nobody serves; removed after."""
    stack = make_stack(name)
    try:
        stack.config_path.write_text(stack.config_path.read_text().replace(
            'runtime = "native"', 'runtime = "docker"'))
        config = load_config(stack.config_path).stack(name)
        dead = docker.DockerClient(base_url=f"unix://{tmp_path}/engine.sock", version="1.41",
                                   timeout=2)
        yield DockerRuntime(config, client=dead)
    finally:
        stack.remove()


def test_operations_on_a_vanished_engine_say_what_failed(tmp_path: Path) -> None:
    with on_a_dead_engine("gone", tmp_path) as runtime:
        for call, doing in ((runtime.status, "reading the stack's status"),
                            (runtime.up, "starting the stack"),
                            (runtime.down, "stopping the stack"),
                            (lambda: runtime.logs("db"), "reading logs"),
                            (lambda: list(runtime.follow_logs("db")), "following logs"),
                            (lambda: runtime.restart("db"), "restarting a service")):
            with pytest.raises(EngineError) as failed:
                call()
            assert f"the Docker engine failed while {doing}" in failed.value.message
            assert "\n" not in failed.value.message


async def test_studio_on_an_engine_that_does_not_answer(tmp_path: Path) -> None:
    """The studio on a docker stack whose engine does not answer: the Services panel says
    why, once, in place; Extensions stops waiting; probes go on quietly (the reason is
    logged once and no toast repeats on every probe)."""
    from textual.widgets import RichLog, Static

    from crestfall_tui.app import CrestfallApp
    from crestfall_tui.widgets import ExtensionList
    from tests.drivers import until

    with on_a_dead_engine("nowhere", tmp_path) as runtime:
        app = CrestfallApp(runtime.stack, runtime)
        async with app.run_test(size=(120, 36)) as pilot:
            problem = app.screen.query_one("#status-problem", Static)
            await until(pilot, lambda: problem.display, within=20)
            assert "the Docker engine failed while reading the stack's status" in str(
                problem.render())
            await until(pilot, lambda: "no status" in str(
                app.screen.query_one(ExtensionList).render()), within=10)
            await pilot.pause(7)  # two more probes
            lines = [str(line.text) for line in app.screen.query_one(RichLog).lines]
            assert sum("status: the Docker engine failed" in line for line in lines) == 1
            toasts = [n for n in app._notifications if "reading the stack's status" in n.message]
            assert len(toasts) <= 1  # the start at launch may say it once; probes never
