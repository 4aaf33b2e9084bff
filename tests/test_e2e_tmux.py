"""End to end: the real `crestfall-tui` binary in tmux, as a person uses it."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.helpers import BINARY, StackUnderTest, eventually

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


# A tmux server of the tests' own, kept up by one idle session for the whole module: when
# each test's session was the server's last, killing it stopped the server, and the next
# test's new-session could race the exiting server and find no pane at all (seen in CI).
SOCKET = f"crestfall-tests-{uuid.uuid4().hex[:8]}"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True,
                          check=False).stdout


@pytest.fixture(scope="module", autouse=True)
def tmux_server() -> Iterator[None]:
    tmux("new-session", "-d", "-s", "keeper", "sleep 3600")
    yield
    tmux("kill-server")


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
    assert eventually(lambda: "SELECT 1" in screen(), 10), screen()  # the rows come first


def _psql(stack: StackUnderTest, query: str) -> str:
    """A query through the real psql, as the user would check."""
    return subprocess.run(["psql", stack.conninfo, "-Atc", query], capture_output=True,
                          text=True, check=True).stdout.strip()


def _open_in_tables(stack: StackUnderTest, session: str, table: str, *flags: str) -> None:
    command = f"{BINARY} --stack local --config {stack.config_path} {' '.join(flags)}"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "30", command)
    assert eventually(lambda: "healthy" in _screen(session), 30), _screen(session)
    tmux("send-keys", "-t", session, "F2")
    assert eventually(lambda: "Pick a table" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "/")
    # Keys typed faster than the focus moves would still reach the tree: wait for the
    # search to have it (the tree's own keys leave the footer).
    assert eventually(lambda: "System schemas" not in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "-l", table)
    tmux("send-keys", "-t", session, "Enter")
    assert eventually(lambda: f"public.{table}" in _screen(session), 10), _screen(session)


def _screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def test_cell_edited_in_the_real_binary_reaches_the_database(
        stack: StackUnderTest, session: str) -> None:
    """F2, find the table, edit a cell, ctrl+s, y: psql sees the new value."""
    _psql(stack, "drop table if exists e2e_edit; create table e2e_edit (id int primary key, "
                 "name text); insert into e2e_edit values (1, 'before')")
    _open_in_tables(stack, session, "e2e_edit")
    assert eventually(lambda: "before" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "Right", "Enter")
    assert eventually(lambda: "enter keeps it" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "C-u")  # a person waits to see the field empty
    assert eventually(lambda: "before" not in _screen(session).split("keeps it")[1], 10)
    tmux("send-keys", "-t", session, "-l", "after it")
    assert eventually(lambda: "after it" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "Enter")
    assert eventually(lambda: "pending: 1" in _screen(session), 10), _screen(session)
    assert _psql(stack, "select name from e2e_edit") == "before"  # pending, not written
    tmux("send-keys", "-t", session, "C-s")
    assert eventually(lambda: "Commit 1 changed" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "y")
    assert eventually(lambda: _psql(stack, "select name from e2e_edit") == "after it", 10), \
        _screen(session) + _psql(stack, "select name from e2e_edit")
    assert "Traceback" not in _screen(session)


def test_read_only_flag_hides_edits_in_the_real_binary(
        stack: StackUnderTest, session: str) -> None:
    """--read-only: the Tables screen says so, and enter opens no editor."""
    _psql(stack, "drop table if exists e2e_ro; create table e2e_ro (id int primary key, "
                 "v text); insert into e2e_ro values (1, 'kept')")
    _open_in_tables(stack, session, "e2e_ro", "--read-only")
    assert eventually(lambda: "read-only" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "Right", "Enter", "d")
    assert "enter keeps it" not in _screen(session) and "pending" not in _screen(session)
    assert "Commit" not in _screen(session)
    assert _psql(stack, "select v from e2e_ro") == "kept"


def test_buffers_by_alt_keys_in_the_real_binary(stack: StackUnderTest, session: str) -> None:
    """alt+n (ESC n in a real terminal) opens a second buffer rather than typing an n;
    alt+left brings the first back."""
    command = f"{BINARY} --stack local --config {stack.config_path}; echo EXITED:$?; sleep 30"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    assert eventually(lambda: "healthy" in _screen(session), 30), _screen(session)
    tmux("send-keys", "-t", session, "F3")
    # 30 lines: a short screen, where a lone buffer's tab is hidden to leave rows room.
    assert eventually(lambda: "Results" in _screen(session), 10), _screen(session)
    assert "query 1" not in _screen(session)
    tmux("send-keys", "-t", session, "-l", "select 'one'")
    assert eventually(lambda: "select 'one'" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "M-n")
    assert eventually(lambda: "query 2" in _screen(session), 10), _screen(session)
    assert "query 1" in _screen(session)  # two buffers: both tabs show
    assert "select 'one'n" not in _screen(session) and "select 'one'" not in _screen(session)
    tmux("send-keys", "-t", session, "M-Left")
    assert eventually(lambda: "select 'one'" in _screen(session), 10), _screen(session)



def test_users_created_banned_and_locked_out_in_the_real_binary(
        stack: StackUnderTest, session: str) -> None:
    """F4, n: a new user by keys; b: banned for the offered 24h; L, y: locked out. psql
    sees the user, the ban, and no session left."""
    import uuid as uuid_module

    email = f"tmux{uuid_module.uuid4().hex[:6]}@users.test"
    command = f"{BINARY} --stack local --config {stack.config_path}"
    tmux("new-session", "-d", "-s", session, "-x", "140", "-y", "36", command)
    assert eventually(lambda: "healthy" in _screen(session), 30), _screen(session)
    tmux("send-keys", "-t", session, "F4")
    assert eventually(lambda: "shown" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "Tab")  # from the search line to the table
    tmux("send-keys", "-t", session, "n")
    assert eventually(lambda: "New user's email" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "-l", email)
    tmux("send-keys", "-t", session, "Enter")
    assert eventually(lambda: "Password" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "-l", "hunter2")
    tmux("send-keys", "-t", session, "Enter")
    assert eventually(lambda: f"Mark {email}" in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "y")
    assert eventually(lambda: _psql(stack, f"select count(*) from auth.users where email = "
                                           f"'{email}'") == "1", 10), _screen(session)
    assert "hunter2" not in _screen(session)
    _psql(stack, "insert into auth.sessions (id, user_id, created_at, updated_at) select "
                 f"gen_random_uuid(), id, now(), now() from auth.users where email = '{email}'")
    assert eventually(lambda: email in _screen(session), 10), _screen(session)
    tmux("send-keys", "-t", session, "b")
    # The prompt's own words (the footer says "Ban" too), then a beat, as a person would:
    # the field takes the focus once it is drawn.
    assert eventually(lambda: f"Ban {email} for" in _screen(session), 10), _screen(session)
    time.sleep(0.3)
    tmux("send-keys", "-t", session, "Enter")
    assert eventually(lambda: _psql(stack, "select banned_until > now() from auth.users "
                                           f"where email = '{email}'") == "t", 10)
    tmux("send-keys", "-t", session, "L")
    assert eventually(lambda: f"Lock {email} out now" in _screen(session), 10), \
        _screen(session)
    tmux("send-keys", "-t", session, "y")
    assert eventually(lambda: _psql(stack, "select count(*) from auth.sessions s join "
                                           "auth.users u on u.id = s.user_id where "
                                           f"u.email = '{email}'") == "0", 10), _screen(session)
    assert "Traceback" not in _screen(session)


def test_cron_job_added_and_run_now_in_the_real_binary(
        stack: StackUnderTest, session: str) -> None:
    """F6, n: a job made in the form by keys (name, schedule said in words, the command in
    the editor, ctrl+s); t runs it now: its manual run shows in the job's history, and psql
    sees the job and the logged run."""
    name = f"tmux-{uuid.uuid4().hex[:6]}"
    command = f"{BINARY} --stack local --config {stack.config_path}"
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", command)
    try:
        assert eventually(lambda: "healthy" in _screen(session), 30), _screen(session)
        tmux("send-keys", "-t", session, "F6")
        assert eventually(lambda: "pg_cron 1.4" in _screen(session), 10), _screen(session)
        tmux("send-keys", "-t", session, "n")
        # The form focuses its name field as it mounts, before it is first drawn.
        assert eventually(lambda: "New cron job" in _screen(session), 10), _screen(session)
        # Typed at once, Tabs and all: the letters after a Tab reach the next field even
        # when the studio is slow to take them (a CI run under load once put them in the
        # name, before modals took Tab as it is read).
        tmux("send-keys", "-t", session, "-l", name)
        tmux("send-keys", "-t", session, "Tab")
        tmux("send-keys", "-t", session, "-l", "*/5 * * * *")
        tmux("send-keys", "-t", session, "Tab", "Tab", "Tab")
        tmux("send-keys", "-t", session, "-l", "select 40 + 2")
        assert eventually(lambda: "Every 5 minutes" in _screen(session), 10), _screen(session)
        assert eventually(lambda: "select 40 + 2" in _screen(session), 10), _screen(session)
        tmux("send-keys", "-t", session, "C-s")
        assert eventually(lambda: _psql(stack, "select schedule from cron.job where jobname "
                                               f"= '{name}'") == "*/5 * * * *", 10), \
            _screen(session)
        assert eventually(lambda: f"{name} (id" in _screen(session), 10), _screen(session)
        tmux("send-keys", "-t", session, "t")
        # "(manual)" may be cut at the column's edge when tmux keeps the window at 80x24.
        assert eventually(lambda: "succeeded (manua" in _screen(session), 15), \
            _screen(session)
        assert _psql(stack, "select r.status || ' ' || r.return_message from "
                            "crestfall.cron_runs r join cron.job j using (jobid) "
                            f"where j.jobname = '{name}'") == "succeeded SELECT 1"
        assert "Traceback" not in _screen(session)
    finally:
        _psql(stack, f"select cron.unschedule(jobid) from cron.job where jobname = '{name}'")
