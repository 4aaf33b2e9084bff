"""The interface every runtime (native, docker, remote) offers to the CLI and the screens."""

from __future__ import annotations

import fcntl
import functools
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from crestfall_tui.clients.postgres import READ_ONLY_LOGIN, PostgresClient
from crestfall_tui.config import StackConfig
from crestfall_tui.errors import CrestfallError
from crestfall_tui.stack.model import (
    Connection,
    Progress,
    ProgressCallback,
    ServiceState,
    StackStatus,
    no_progress,
)
from crestfall_tui.stack.private_files import data_dir, private_dir, write_private
from crestfall_tui.stack.processes import wait_for
from crestfall_tui.stack.secrets import (
    SecretsNotCreated,
    StackSecrets,
    complete_secrets,
    create_secrets,
    load_secrets,
    missing_for_existing_database,
)

RUNTIME_FILE = "runtime"
LOCK_FILE = "lock"
LOCK_WAIT_S = 600.0
_Method = TypeVar("_Method", bound=Callable[..., Any])


def recorded_runtime(stack: StackConfig) -> str | None:
    """The runtime that last brought this stack up (native or docker), if any."""
    try:
        name = (stack.data_path / RUNTIME_FILE).read_text().strip()
    except OSError:
        return None
    return name if name in ("native", "docker") else None


def locked(what: str) -> Callable[[_Method], _Method]:
    """Run a runtime's method holding the stack's lock, so two `up`s (or an `up` and a
    `down`) at once never interleave: the second waits, saying who holds it."""
    def wrap(method: _Method) -> _Method:
        @functools.wraps(method)
        def run(self: Runtime, *args: Any, **kwargs: Any) -> Any:
            progress = kwargs.get("progress") or next(
                (a for a in args if callable(a)), no_progress)
            with stack_lock(self.stack, what, progress):
                return method(self, *args, **kwargs)
        return cast(_Method, run)
    return wrap


@contextmanager
def stack_lock(stack: StackConfig, what: str, progress: ProgressCallback) -> Iterator[None]:
    """Hold `<data_dir>/lock` (flock, released by the kernel if we die) while `what` runs."""
    path = data_dir(stack.data_path) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(fd):
            # The holder writes who it is just after taking the lock: give it a moment.
            wait_for(lambda: bool(_holder(fd)), 1.0)
            holder = _holder(fd) or "another process"
            progress(Progress("stack", ServiceState.STARTING,
                              f"waiting: {holder} is at work on stack '{stack.name}'"))
            if not wait_for(lambda: _try_lock(fd), LOCK_WAIT_S, 0.1):
                raise CrestfallError(
                    f"stack '{stack.name}' is busy: {holder} has held its lock for over "
                    f"{LOCK_WAIT_S:.0f}s; try again when it is done", title="Stack")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({what})\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    return os.pread(fd, 200, 0).decode(errors="replace").strip()


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def record_runtime(stack: StackConfig, name: str) -> None:
    """Remember which runtime runs this stack, so that `auto` finds it there again."""
    write_private(private_dir(stack.data_path) / RUNTIME_FILE, f"{name}\n")


class Runtime(ABC):
    """Runs (or only reaches) one stack. Blocking: call it from a thread worker."""

    name: str
    """native, docker or remote."""
    manages_services: bool = True
    """False for a stack that crestfall-tui only connects to."""

    def __init__(self, stack: StackConfig) -> None:
        self.stack = stack
        self._secrets: StackSecrets | None = None

    @property
    def secrets(self) -> StackSecrets:
        """The stack's secrets, read and never written: SecretsNotCreated before the first
        `up`, an error saying how to recover when they are lost for an existing database."""
        if self._secrets is None:
            found = load_secrets(self.stack.data_path)
            if found is None:
                where = self.existing_database()
                if where:
                    raise missing_for_existing_database(self.stack.data_path, where)
                raise SecretsNotCreated(self.stack.name)
            self._secrets = found
        return self._secrets

    def prepare_secrets(self) -> StackSecrets:
        """For `up`: the secrets, created along with a database that does not exist yet, and
        completed where an older crestfall-tui wrote fewer."""
        found = load_secrets(self.stack.data_path)
        if found is None:
            where = self.existing_database()
            if where:
                raise missing_for_existing_database(self.stack.data_path, where)
            found = create_secrets(self.stack.data_path)
        self._secrets = complete_secrets(self.stack.data_path, found)
        return self._secrets

    def existing_database(self) -> str | None:
        """Where the stack's database lives, when it exists; None when it does not."""
        return None

    def reset_secrets(self, progress: ProgressCallback = no_progress) -> None:
        """New secrets for a database whose secrets.json is lost (the database stopped):
        its login roles get new passwords, and a new secrets.json is written."""
        raise CrestfallError(
            f"reset-secrets works on a native stack's database; stack '{self.stack.name}' "
            f"runs on the {self.name} runtime: restore secrets.json from a backup of "
            f"{self.stack.data_path}", title="Secrets")

    @abstractmethod
    def up(self, progress: ProgressCallback = no_progress,
           exclude: frozenset[str] = frozenset()) -> StackStatus:
        """Start what is not running and wait until each service is healthy; idempotent.
        The stack's configured `exclude` and this call's `exclude` are left out."""

    @abstractmethod
    def down(self, progress: ProgressCallback = no_progress,
             volumes: bool = False) -> StackStatus:
        """Stop every service cleanly; the data stays unless `volumes` (docker only)."""

    @abstractmethod
    def restart(self, service: str, progress: ProgressCallback = no_progress) -> StackStatus:
        """Stop and start one service, then wait until it is healthy."""

    @abstractmethod
    def status(self) -> StackStatus:
        """Probe every service now."""

    @abstractmethod
    def logs(self, service: str, lines: int = 50) -> list[str]:
        """The last lines a service logged."""

    @abstractmethod
    def follow_logs(self, service: str,
                    stop: threading.Event | None = None) -> Iterator[str]:
        """The lines a service logs from now on, as it writes them, until `stop` is set or
        the iterator is closed. Blocking: run it in a thread."""

    @abstractmethod
    def db_url(self) -> str:
        """A `postgresql://` URL for the superuser (password included)."""

    def read_only_db_url(self) -> str:
        """A `postgresql://` URL for the `crestfall_readonly` login, which cannot write."""
        from urllib.parse import quote, urlsplit, urlunsplit

        password = self.secrets.readonly_password
        if password is None:
            raise CrestfallError(
                f"stack '{self.stack.name}' has no read-only login yet: run `crestfall-tui "
                "stack up` once to create it", title="Read-only")
        parts = urlsplit(self.db_url())
        where = f"{READ_ONLY_LOGIN}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
        return urlunsplit(parts._replace(netloc=where))

    def postgres(self, *, read_only: bool, database: str | None = None) -> PostgresClient:
        """A client for the stack's database (or `database`); read-only logs in as a role
        that cannot write, so the server refuses writes whatever a session sends."""
        return PostgresClient(self.read_only_db_url if read_only else self.db_url,
                              read_only=read_only, database=database or self.stack.database)

    @abstractmethod
    def connections(self) -> list[Connection]:
        """URLs and keys a client needs, secrets marked for masking."""
