"""The interface every runtime (native, docker, remote) offers to the CLI and the screens."""

from __future__ import annotations

from abc import ABC, abstractmethod

from crestfall_tui.clients.postgres import READ_ONLY_LOGIN, PostgresClient
from crestfall_tui.config import StackConfig
from crestfall_tui.errors import CrestfallError
from crestfall_tui.stack.model import Connection, ProgressCallback, StackStatus, no_progress
from crestfall_tui.stack.secrets import (
    SecretsNotCreated,
    StackSecrets,
    complete_secrets,
    create_secrets,
    load_secrets,
    missing_for_existing_database,
)

RUNTIME_FILE = "runtime"


def recorded_runtime(stack: StackConfig) -> str | None:
    """The runtime that last brought this stack up (native or docker), if any."""
    try:
        name = (stack.data_path / RUNTIME_FILE).read_text().strip()
    except OSError:
        return None
    return name if name in ("native", "docker") else None


def record_runtime(stack: StackConfig, name: str) -> None:
    """Remember which runtime runs this stack, so that `auto` finds it there again."""
    stack.data_path.mkdir(parents=True, exist_ok=True)
    (stack.data_path / RUNTIME_FILE).write_text(f"{name}\n")


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

    def postgres(self, *, read_only: bool) -> PostgresClient:
        """A client for the stack's database; read-only logs in as a role that cannot write,
        so the server refuses writes whatever a session sends."""
        return PostgresClient(self.read_only_db_url if read_only else self.db_url,
                              read_only=read_only)

    @abstractmethod
    def connections(self) -> list[Connection]:
        """URLs and keys a client needs, secrets marked for masking."""
