"""Faults around a native stack's files: a data dir that cannot be, lost or damaged secrets,
unreadable files, a server that cannot start. Each is one clear line, and nothing is lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers import StackUnderTest, make_stack, run_cli

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (CI runs as root)")


@pytest.fixture(scope="module")
def made() -> Iterator[StackUnderTest]:
    """A stack that has been up once and is now down: its database and secrets exist."""
    own = make_stack("made")
    try:
        own.runtime.up()
        own.runtime.down()
        yield own
    finally:
        own.remove()


def config_with_data_dir(tmp_path: Path, data_dir: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[stacks.odd]\nruntime = "native"\ndata_dir = "{data_dir}"\n')
    return config


@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_a_data_dir_that_cannot_be_is_a_config_error(tmp_path: Path, where: str) -> None:
    """status and up exit 2 with one line naming the directory (a parent that is a file,
    /proc), no traceback, nothing written."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    data_dir = blocker / "stack" if where == "under-a-file" else Path("/proc/crestfall")
    config = config_with_data_dir(tmp_path, data_dir)
    for action in ("status", "up"):
        done = run_cli("stack", action, "--stack", "odd", "--config", str(config))
        assert done.returncode == 2, done.stderr
        assert str(data_dir) in done.stderr and done.stderr.count("\n") == 1
        assert "Traceback" not in done.stderr


@ROOT_ONLY
def test_a_data_dir_on_a_read_only_filesystem(tmp_path: Path) -> None:
    """A data dir to be made on a read-only filesystem: status and up exit 2 naming it."""
    mount = tmp_path / "ro"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        config = config_with_data_dir(tmp_path, mount / "stack")
        for action in ("status", "up"):
            done = run_cli("stack", action, "--stack", "odd", "--config", str(config))
            assert done.returncode == 2, done.stderr
            assert "is on a read-only filesystem" in done.stderr
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_status_writes_nothing(tmp_path: Path) -> None:
    """`stack status` of a stack never brought up creates no file or folder."""
    fresh = make_stack("never")
    try:
        done = fresh.cli("stack", "status", "--json")
        assert done.returncode == 1
        states = [s["state"] for s in json.loads(done.stdout)["services"]]
        assert "down" in states
        assert not fresh.stack.data_path.exists()
    finally:
        fresh.remove()


def test_lost_secrets_are_never_replaced(made: StackUnderTest) -> None:
    """Without secrets.json for an existing database, status and up stop with a message on
    how to recover (never advising to delete the data dir) and write no new secrets."""
    secrets = made.stack.data_path / "secrets.json"
    kept = secrets.read_bytes()
    secrets.unlink()
    try:
        for action in ("status", "up"):
            done = made.cli("stack", action)
            assert done.returncode == 1, done.stderr
            assert "secrets.json is missing, but the stack's database exists" in done.stderr
            assert "Restore secrets.json from a backup" in done.stderr
            assert "remove the stack's data dir" not in done.stderr
            assert not secrets.exists()
    finally:
        secrets.write_bytes(kept)
        secrets.chmod(0o600)


@pytest.mark.parametrize("content", [b'{"postgres_password": 5}', b"not json", b"[1, 2]"])
def test_damaged_secrets_are_one_line(made: StackUnderTest, content: bytes) -> None:
    """A secrets.json of the wrong shape or type: one line naming the file and what is
    wrong, exit 1; the file is left as it is."""
    secrets = made.stack.data_path / "secrets.json"
    kept = secrets.read_bytes()
    secrets.write_bytes(content)
    try:
        done = made.cli("stack", "status")
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert f"{secrets} is damaged" in done.stderr
        assert secrets.read_bytes() == content
    finally:
        secrets.write_bytes(kept)


@ROOT_ONLY
def test_unreadable_secrets_without_roots_override(made: StackUnderTest) -> None:
    """secrets.json unreadable to a root that has dropped CAP_DAC_OVERRIDE (setpriv): one
    line saying it cannot be read and why."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    secrets = made.stack.data_path / "secrets.json"
    secrets.chmod(0o000)
    try:
        done = run_cli("stack", "status", "--stack", made.stack.name, "--config",
                       str(made.config_path), wrapper=_without_override())
        assert done.returncode == 1, done.stderr
        assert "secrets.json cannot be read (Permission denied)" in done.stderr
    finally:
        secrets.chmod(0o600)


def _without_override() -> list[str]:
    return ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search", "--"]


@ROOT_ONLY
def test_a_server_that_cannot_start_says_why(made: StackUnderTest) -> None:
    """Postgres that cannot open its log folder fails `up` with the line saying so
    (Permission denied), not with older lines of an earlier run; nothing is left running."""
    logs = made.runtime.db.log_dir
    owner = logs.stat()
    os.chown(logs, 0, 0)
    logs.chmod(0o700)
    try:
        done = made.cli("stack", "up")
        assert done.returncode == 1
        assert "could not open log file" in done.stderr and "Permission denied" in done.stderr
        assert "ready to accept connections" not in done.stderr
        assert made.runtime.db.pid() is None
    finally:
        os.chown(logs, owner.st_uid, owner.st_gid)
        logs.chmod(0o700)


def test_lost_secrets_can_be_reset_and_the_database_opens_again(made: StackUnderTest) -> None:
    """Without secrets.json, `stack reset-secrets --yes` (stack down) sets new passwords in
    single-user mode and writes new secrets: `up` and a query work again, the data is
    still there, read-only too; a second reset refuses (the secrets exist)."""
    secrets = made.stack.data_path / "secrets.json"
    kept = secrets.read_bytes()
    made.runtime.up()
    with psycopg.connect(made.conninfo, autocommit=True) as conn:
        conn.execute("create table if not exists survives_reset (v int)")
    made.runtime.down()
    secrets.unlink()
    try:
        assert made.cli("stack", "reset-secrets").returncode == 2  # asks for --yes
        done = made.cli("stack", "reset-secrets", "--yes")
        assert done.returncode == 0, done.stderr
        assert json.loads(secrets.read_text())["postgres_password"] != json.loads(kept)[
            "postgres_password"]
        assert secrets.stat().st_mode & 0o777 == 0o600
        assert made.cli("stack", "up").returncode == 0
        query = made.cli("query", "-c", "select count(*) from survives_reset")
        assert query.returncode == 0, query.stderr
        read_only = made.cli("query", "--read-only", "-c", "select 1")
        assert read_only.returncode == 0, read_only.stderr
        again = made.cli("stack", "reset-secrets", "--yes")
        assert again.returncode == 1 and "nothing to reset" in again.stderr
    finally:
        made.runtime.down()
