"""The interface every runtime (native, docker, remote) offers to the CLI and the screens."""

from __future__ import annotations

from abc import ABC, abstractmethod

from crestfall_tui.config import StackConfig
from crestfall_tui.stack.model import Connection, ProgressCallback, StackStatus, no_progress

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

    @abstractmethod
    def connections(self) -> list[Connection]:
        """URLs and keys a client needs, secrets marked for masking."""
