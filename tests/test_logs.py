"""Following a service's logs through the Runtime interface, and the file follower itself."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from crestfall_tui.config import RemoteEndpoints
from crestfall_tui.errors import CrestfallError
from crestfall_tui.stack.log_files import follow_files
from crestfall_tui.stack.remote import RemoteRuntime
from tests.helpers import StackUnderTest, eventually


def collect_in_thread(lines: object, seen: list[str]) -> threading.Thread:
    def read() -> None:
        for line in lines:  # type: ignore[attr-defined]
            seen.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


def test_native_follow_shows_what_postgres_logs_from_now_on(stack: StackUnderTest) -> None:
    """Following db yields a line Postgres logs after the follow began (as `time SEVERITY:
    message`), none from before, and stops when asked."""
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        conn.execute("do $$ begin raise log 'before_the_follow'; end $$")
    stop = threading.Event()
    seen: list[str] = []
    reader = collect_in_thread(stack.runtime.follow_logs("db", stop), seen)
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        conn.execute("do $$ begin raise log 'after_the_follow'; end $$")
    assert eventually(lambda: any("after_the_follow" in line for line in seen), 15)
    assert not any("before_the_follow" in line for line in seen)
    assert any(" LOG: " in line for line in seen if "after_the_follow" in line)
    stop.set()
    reader.join(5)
    assert not reader.is_alive()


def test_the_follower_handles_new_truncated_and_partial_files(tmp_path: Path) -> None:
    """A file that appears later is read from its start, a truncated one again from its
    start, and a line still being written waits for its end."""
    first = tmp_path / "a.log"
    first.write_text("old line\n")
    stop = threading.Event()
    seen: list[str] = []
    reader = collect_in_thread(
        follow_files(lambda: sorted(tmp_path.glob("*.log")), str.upper, stop, poll=0.02), seen)
    with first.open("a") as out:
        out.write("one\ntw")
    assert eventually(lambda: seen == ["ONE"], 5)
    with first.open("a") as out:
        out.write("o\n")
    (tmp_path / "b.log").write_text("new file\n")
    assert eventually(lambda: seen[1:] == ["TWO", "NEW FILE"], 5), seen
    first.write_text("cut\n")  # shorter than what was read: truncated
    assert eventually(lambda: seen[-1] == "CUT", 5), seen
    assert "OLD LINE" not in seen
    stop.set()
    reader.join(5)


def test_a_remote_stack_says_why_it_has_no_logs(stack: StackUnderTest) -> None:
    """A remote stack's logs are not reachable: one clear error, for reading and following."""
    remote = RemoteRuntime(replace(stack.stack, runtime="remote",
                                   remote=RemoteEndpoints(db_url=stack.runtime.db_url())))
    with pytest.raises(CrestfallError, match="logs are on its own hosts"):
        remote.logs("db")
    with pytest.raises(CrestfallError, match="logs are on its own hosts"):
        remote.follow_logs("db")
