"""The native runtime: up, status, down, restart, recovery, port clashes, secrets."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
from pathlib import Path

import psycopg
import pytest

from crestfall_tui.errors import CrestfallError, ServiceError
from crestfall_tui.stack.model import ServiceState
from crestfall_tui.stack.native import NativeRuntime
from crestfall_tui.stack.processes import pid_alive, port_in_use, process_cmdline
from tests.helpers import BINARY, StackUnderTest, eventually, make_stack, run_cli


def states(runtime: NativeRuntime) -> dict[str, ServiceState]:
    return {s.name: s.state for s in runtime.status().services}


def test_status_reports_each_service(stack: StackUnderTest) -> None:
    """db and search are healthy with versions; rest is honestly `not installed` here."""
    status = stack.runtime.status()
    db, rest, search = (status.service(n) for n in ("db", "rest", "search"))
    assert db.state == ServiceState.HEALTHY and db.version and db.version.startswith("15")
    assert search.state == ServiceState.HEALTHY and search.version
    assert rest.state == ServiceState.NOT_INSTALLED and "postgrest" in rest.detail
    assert db.started_at is not None and search.started_at is not None
    assert status.healthy


def test_up_on_a_running_stack_changes_nothing(stack: StackUnderTest) -> None:
    """A second `up` keeps the same processes and runs no init script."""
    before = {name: s.pid() for name, s in stack.runtime.services.items()}
    steps = []
    stack.runtime.up(steps.append)
    after = {name: s.pid() for name, s in stack.runtime.services.items()}
    assert before == after and before["db"] is not None
    assert not any("starting" in s.message or "init scripts" in s.message for s in steps)


def listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses something listens on at `port`, from /proc/net/tcp."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_services_listen_only_on_bind(stack: StackUnderTest) -> None:
    """Postgres and Typesense listen on 127.0.0.1 only, not on every address."""
    for port in (stack.stack.ports.db, stack.stack.ports.search):
        assert listening_addresses(port) == {"127.0.0.1"}


def test_secrets_file_is_private(stack: StackUnderTest) -> None:
    """Secrets live in the data dir with mode 0600, and the API keys are HS256 JWTs."""
    path = stack.stack.data_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secrets = json.loads(path.read_text())
    assert len(secrets["jwt_secret"]) >= 32
    import jwt

    claims = jwt.decode(secrets["anon_key"], secrets["jwt_secret"], algorithms=["HS256"])
    assert claims["role"] == "anon"


def test_postgres_runs_unprivileged(stack: StackUnderTest) -> None:
    """As root, the server process belongs to the `postgres` OS user."""
    pid = stack.runtime.db.pid()
    assert pid is not None
    owner = os.stat(f"/proc/{pid}").st_uid
    if os.geteuid() == 0:
        assert owner != 0
    else:
        assert owner == os.geteuid()


def test_kill_9_is_detected_and_recovered(scratch: StackUnderTest) -> None:
    """A postmaster killed with SIGKILL is reported down; `up` brings it back."""
    pid = scratch.runtime.db.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: states(scratch.runtime)["db"] == ServiceState.DOWN, 10)
    status = scratch.runtime.up()
    assert status.service("db").state == ServiceState.HEALTHY
    assert scratch.runtime.db.pid() not in (None, pid)


def test_restart_one_service(scratch: StackUnderTest) -> None:
    """restart search gives it a new process and waits until it is healthy again."""
    before = scratch.runtime.services["search"].pid()
    status = scratch.runtime.restart("search")
    assert status.service("search").state == ServiceState.HEALTHY
    assert scratch.runtime.services["search"].pid() not in (None, before)


def test_restart_of_missing_service_is_refused(scratch: StackUnderTest) -> None:
    """Restarting a service that is not installed says why."""
    with pytest.raises(ServiceError, match="no postgrest binary"):
        scratch.runtime.restart("rest")
    with pytest.raises(CrestfallError, match="unknown service"):
        scratch.runtime.restart("cache")


def test_down_keeps_data(scratch: StackUnderTest) -> None:
    """A row written before `down` is there after the next `up`."""
    with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
        conn.execute("create table if not exists kept (v text); insert into kept values ('x')")
    status = scratch.runtime.down()
    assert {s.state for s in status.services} == {ServiceState.DOWN, ServiceState.NOT_INSTALLED}
    assert not status.healthy
    scratch.runtime.up()
    with psycopg.connect(scratch.conninfo) as conn:
        assert conn.execute("select v from kept").fetchall() == [("x",)]


def test_port_in_use_is_named_and_nothing_starts() -> None:
    """A port taken by another program: a clear error naming it, and nothing left running."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        clash = make_stack("clash", search=taken)
        try:
            with pytest.raises(ServiceError, match=f"port {taken} on 127.0.0.1 is in use"):
                clash.runtime.up()
            assert all(s.pid() is None for s in clash.runtime.services.values())
            done = clash.cli("stack", "up")
            assert done.returncode == 1 and f"port {taken}" in done.stderr
            assert "Traceback" not in done.stderr
        finally:
            clash.remove()


def test_damaged_secrets_file_is_reported() -> None:
    """A corrupt secrets file gets a clear message, and the file is left as it was."""
    broken = make_stack("broken")
    try:
        broken.stack.data_path.mkdir(parents=True)
        path = broken.stack.data_path / "secrets.json"
        path.write_text("{not json")
        done = broken.cli("stack", "up")
        assert done.returncode == 1
        assert "secrets.json is damaged" in done.stderr and "Traceback" not in done.stderr
        assert path.read_text() == "{not json"
    finally:
        shutil.rmtree(broken.root)


def test_auto_falls_back_to_native_without_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """runtime = "auto" with no Docker engine socket runs natively and says why."""
    from crestfall_tui.config import StackConfig
    from crestfall_tui.stack import choose_runtime

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    choice = choose_runtime(StackConfig(name="auto-test", runtime="auto"))
    assert isinstance(choice.runtime, NativeRuntime)
    assert "no Docker engine" in choice.note and "natively" in choice.note


def test_every_file_of_a_stack_is_private(stack: StackUnderTest) -> None:
    """After `up` (and some logging), no file or folder under the data dir is readable or
    writable by group or others: the root folder at most lets Postgres's user pass (0710)."""
    run_cli("query", "--stack", stack.stack.name, "--config", str(stack.config_path),
            "-c", "select 1")
    exposed = []
    for path in [stack.stack.data_path, *stack.stack.data_path.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        allowed = 0o710 if path == stack.stack.data_path else 0o700
        if mode & ~allowed:
            exposed.append(f"{path} {mode:o}")
    assert not exposed, exposed
    names = {p.name for p in stack.stack.data_path.rglob("*")}
    assert any(name.endswith(".json") for name in names)  # Postgres's logs were checked
    assert {"stdout.log", "secrets.json", "lock"} <= names


def test_concurrent_ups_wait_for_each_other(tmp_path: Path) -> None:
    """Two `stack up` at once: both succeed (the second waits for the lock and finds the
    stack running), one Typesense runs, and `down` stops everything."""
    fresh = make_stack("twice")
    try:
        args = ["stack", "up", "--stack", "twice", "--config", str(fresh.config_path)]
        both = [subprocess.Popen([str(BINARY), *args], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(p.wait(timeout=180), p.stderr.read() if p.stderr else "") for p in both]
        assert [code for code, _ in results] == [0, 0], results
        assert any("waiting: pid" in err and "(stack up) is at work on stack 'twice'" in err
                   for _, err in results), results
        servers = [pid for pid in os.listdir("/proc") if pid.isdigit()
                   and str(fresh.root) in " ".join(process_cmdline(int(pid)))
                   and "typesense" in " ".join(process_cmdline(int(pid))[:1])]
        assert len(servers) == 1, servers
        fresh.runtime.down()
        assert fresh.cli("stack", "status").returncode == 1
        assert eventually(lambda: not port_in_use("127.0.0.1", fresh.stack.ports.search))
    finally:
        fresh.remove()


def test_a_server_whose_pid_file_is_lost_is_found_again(scratch: StackUnderTest) -> None:
    """Typesense running without its pid file is still this stack's: status sees it and
    `down` stops it (no orphan holding the port)."""
    search = scratch.runtime.service("search")
    pid = search.pid()
    assert pid is not None
    (search.dir / "typesense.pid").unlink()
    assert search.pid() == pid
    assert scratch.runtime.status().services[2].state.value == "healthy"
    search.stop()
    assert eventually(lambda: not pid_alive(pid))
    scratch.runtime.up()
