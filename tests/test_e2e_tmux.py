"""End to end: the real `crestfall-tui` binary in tmux, as a person uses it."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.helpers import BINARY, StackUnderTest, eventually

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


@pytest.fixture
def session() -> Iterator[str]:
    name = f"crestfall-e2e-{uuid.uuid4().hex[:8]}"
    yield name
    tmux("kill-session", "-t", name)


def test_studio_shows_healthy_stack_and_quits(stack: StackUnderTest, session: str) -> None:
    """Launch the studio at 80x24, see db and search healthy, press q, and it exits with 0."""
    command = (f"{BINARY} --stack local --config {stack.config_path}; "
               f"echo EXITED:$?; sleep 30")
    tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", session)

    def healthy_rows() -> bool:
        lines = screen().splitlines()
        return all(any(name in line and "healthy" in line for line in lines)
                   for name in ("db", "search"))

    assert eventually(healthy_rows, 30), screen()
    assert "not installed" in screen()
    assert stack.runtime.secrets.postgres_password not in screen()
    tmux("send-keys", "-t", session, "q")
    assert eventually(lambda: "EXITED:0" in screen(), 15), screen()
    assert "Traceback" not in screen()
    # The studio leaves the stack running.
    assert stack.runtime.status().healthy


def test_query_typed_in_the_real_binary(stack: StackUnderTest, session: str) -> None:
    """F3, type a query, ctrl+j: the result is read off the screen."""
    command = f"{BINARY} --stack local --config {stack.config_path}"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", session)

    assert eventually(lambda: "healthy" in screen(), 30), screen()
    tmux("send-keys", "-t", session, "F3")
    assert eventually(lambda: "SQL" in screen() and "Results" in screen(), 10), screen()
    tmux("send-keys", "-t", session, "-l", "select 6 * 7 as answer, 'crest' || 'fall' as name")
    assert eventually(lambda: "'fall' as name" in screen(), 10), screen()
    tmux("send-keys", "-t", session, "C-j")
    assert eventually(lambda: "crestfall" in screen() and "42" in screen(), 15), screen()
    assert "SELECT 1" in screen()
