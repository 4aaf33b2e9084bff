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
from typing import Any

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


ZERO_INSTANCE = "00000000-0000-0000-0000-000000000000"


def insert_auth_user(conn: psycopg.Connection[Any], email: str,
                     user_id: str | None = None) -> str:
    """An auth user as GoTrue writes one, so GoTrue's own code can load it: no NULL in the
    columns its Go structs read (token columns, aud, role, instance_id, timestamps), and
    the `email` identity an email user has. Returns its id."""
    import json

    row = conn.execute(
        "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, "
        "raw_user_meta_data, created_at, updated_at, confirmation_token, recovery_token, "
        "email_change_token_new, email_change) values (%s, coalesce(%s::uuid, "
        "gen_random_uuid()), 'authenticated', 'authenticated', %s, "
        "'{\"provider\": \"email\", \"providers\": [\"email\"]}', '{}', now(), now(), "
        "'', '', '', '') on conflict (id) do update set email = excluded.email returning id",
        (ZERO_INSTANCE, user_id, email)).fetchone()
    assert row is not None
    found = str(row[0])
    conn.execute(
        "insert into auth.identities (provider_id, user_id, identity_data, provider, "
        "last_sign_in_at, created_at, updated_at) values (%s, %s, %s, 'email', now(), now(), "
        "now()) on conflict (provider_id, provider) do nothing",
        (found, found, json.dumps({"sub": found, "email": email, "email_verified": False,
                                   "phone_verified": False})))
    return found


OFFLINE_IMAGES = {"CRESTFALL_DB_IMAGE": "crestfall-local/db:15",
                  "CRESTFALL_SEARCH_IMAGE": "crestfall-local/search:0.24.1"}
"""The images scripts/build-offline-images makes (no PostgREST: it cannot be built here)."""


@contextmanager
def docker_stack(name: str) -> Iterator[StackUnderTest]:
    """A docker stack (rest excluded) on free ports, with the offline images; removed with
    its volumes, and its environment restored, at the end."""
    from crestfall_tui.stack.docker import DockerRuntime

    saved = {variable: os.environ.get(variable) for variable in OFFLINE_IMAGES}
    os.environ.update(OFFLINE_IMAGES)
    stack = make_stack(name)
    stack.config_path.write_text(stack.config_path.read_text().replace(
        'runtime = "native"', 'runtime = "docker"\nexclude = ["rest"]'))
    config = load_config(stack.config_path).stack(name)
    runtime = DockerRuntime(config)
    try:
        yield StackUnderTest(stack.root, stack.config_path, config, runtime)  # type: ignore[arg-type]
    finally:
        runtime.down(volumes=True)
        shutil.rmtree(stack.root, ignore_errors=True)
        for variable, value in saved.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value
