"""Shared test plumbing: throwaway stacks on free ports, and waiting on conditions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from crestfall_tui.config import StackConfig, load_config
from crestfall_tui.stack.native import NativeRuntime
from crestfall_tui.stack.processes import free_port

REPO = Path(__file__).resolve().parent.parent
BINARY = Path(sys.executable).parent / "crestfall-tui"


@dataclass
class StackUnderTest:
    """A native stack in its own directory, with its own config file."""

    root: Path
    config_path: Path
    stack: StackConfig
    runtime: NativeRuntime

    @property
    def conninfo(self) -> str:
        return self.runtime.db.conninfo()

    def cli(self, *args: str, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run the real `crestfall-tui` with this stack's config (and `env` over the
        environment)."""
        return run_cli(*args, "--stack", self.stack.name, "--config", str(self.config_path),
                       timeout=timeout, env=env)

    def remove(self) -> None:
        """Stop every service and delete the stack's files."""
        try:
            self.runtime.down()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def make_stack(name: str = "local", **ports: int) -> StackUnderTest:
    """A config for a fresh native stack on free ports (nothing started yet).

    The directory is world-searchable: as root, Postgres runs as the `postgres` OS user.
    """
    root = Path(tempfile.mkdtemp(prefix=f"crestfall-test-{name}-"))
    root.chmod(0o755)
    chosen = {"db": free_port(), "rest": free_port(), "search": free_port()} | ports
    config_path = root / "config.toml"
    config_path.write_text(
        f'[stacks.{name}]\nruntime = "native"\ndata_dir = "{root / "data"}"\n'
        f'[stacks.{name}.ports]\n'
        + "".join(f"{key} = {value}\n" for key, value in chosen.items()))
    stack = load_config(config_path).stack(name)
    return StackUnderTest(root, config_path, stack, NativeRuntime(stack))


@contextmanager
def scratch_database(stack: StackUnderTest, name: str,
                     *statements: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A database `name` on the stack (made anew), with `statements` run in it; dropped
    after, with the studio's remembered choice of it."""
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(stack.conninfo, dbname=name, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())
            yield conn
    finally:
        (stack.stack.data_path / "database").unlink(missing_ok=True)
        with psycopg.connect(stack.conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)))


def run_cli(*args: str, timeout: float = 120, env: dict[str, str] | None = None,
            wrapper: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """Run the installed `crestfall-tui` binary (under `wrapper`, such as setpriv)."""
    return subprocess.run([*wrapper, str(BINARY), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, check=False)


def engine_problem(images: Iterable[str]) -> str | None:
    """Why the docker tests cannot run here (no engine, missing images), or None."""
    from crestfall_tui.stack.docker_engine import EngineError, connect_engine

    try:
        client = connect_engine(timeout=5)
    except EngineError as error:
        return error.message
    try:
        missing = [image for image in images if not client.images.list(name=image)]
    finally:
        client.close()
    if missing:
        return f"images {', '.join(missing)} are not built (scripts/build-offline-images)"
    return None


def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll a condition until it holds (True) or the deadline passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
