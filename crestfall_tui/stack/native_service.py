"""What every natively run service shares: its state from a pid and a health probe."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from crestfall_tui.clients.probes import Probe
from crestfall_tui.config import StackConfig
from crestfall_tui.stack.model import ServiceState, ServiceStatus
from crestfall_tui.stack.processes import client_host, process_started_at, url_host
from crestfall_tui.stack.secrets import SecretsNotCreated, StackSecrets


class NativeService(ABC):
    """One server process run from a binary on this host."""

    name: str
    start_timeout: float = 60.0

    def __init__(self, stack: StackConfig, secrets: Callable[[], StackSecrets]) -> None:
        self.stack = stack
        self._secrets = secrets
        self.host = client_host(stack.bind)
        self.url_host = url_host(stack.bind)
        self.dir = stack.data_path / self.name

    @property
    def secrets(self) -> StackSecrets:
        """The stack's secrets, read when first needed (a stack not yet created has none)."""
        return self._secrets()

    @property
    @abstractmethod
    def port(self) -> int:
        """The port clients use."""

    @abstractmethod
    def missing(self) -> str | None:
        """Why the service cannot run on this host, or None when it can."""

    @abstractmethod
    def pid(self) -> int | None:
        """The running server's pid, or None."""

    @abstractmethod
    def probe(self) -> Probe:
        """Ask the service whether it is healthy."""

    @abstractmethod
    def start(self) -> None:
        """Start the server (it is known not to be running)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the server cleanly, if it runs."""

    @abstractmethod
    def log_lines(self, lines: int) -> list[str]:
        """The last lines the server logged."""

    @abstractmethod
    def url(self) -> str:
        """How a client reaches the service, secret included."""

    @property
    def secret(self) -> str | None:
        """The secret inside `url()`, for masking."""
        return None

    def status(self) -> ServiceStatus:
        """State from the process and one probe."""
        try:
            url, secret = self.url(), self.secret
        except SecretsNotCreated:
            url, secret = "", None
        base = ServiceStatus(name=self.name, state=ServiceState.DOWN, port=self.port,
                             url=url, detail="not running", secret=secret)
        reason = self.missing()
        if reason:
            return replace(base, state=ServiceState.NOT_INSTALLED, detail=reason)
        pid = self.pid()
        if pid is None:
            return base
        found = self.probe()
        started_at = found.started_at or process_started_at(pid)
        if found.ok:
            state = ServiceState.HEALTHY
        elif started_at and (datetime.now(UTC) - started_at).total_seconds() < self.start_timeout:
            state = ServiceState.STARTING
        else:
            state = ServiceState.UNHEALTHY
        return replace(base, state=state, detail=found.detail, version=found.version,
                       started_at=started_at)
