"""What every natively run service shares: its state from a pid and a health probe."""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from crestfall_tui.clients.probes import Probe
from crestfall_tui.config import StackConfig
from crestfall_tui.stack.model import ServiceState, ServiceStatus
from crestfall_tui.stack.processes import client_host, process_started_at, url_host
from crestfall_tui.stack.secrets import SecretsNotCreated, StackSecrets

LOG_READ_LIMIT = 1 << 20
_REASON = re.compile(r"FATAL|PANIC|ERROR|[Ee]rror|could not|[Dd]enied|already|[Ff]ailed|"
                     r"[Cc]annot")


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

    def leftovers(self) -> list[int]:
        """Processes a killed server of this service left behind, still at work."""
        return []

    def log_files(self) -> list[Path]:
        """Every file the server logs to."""
        return []

    def format_log_line(self, line: str) -> str:
        """One log line as the user reads it."""
        return line

    def log_mark(self) -> dict[Path, int]:
        """Where each log file ends now, so that `log_since` shows only what comes after."""
        marks = {}
        for path in self.log_files():
            with contextlib.suppress(OSError):
                marks[path] = path.stat().st_size
        return marks

    def log_since(self, mark: dict[Path, int], limit: int = 15) -> list[str]:
        """What the server logged since `mark`: the lines that say why it failed (fatal
        errors, refusals) when there are any, else the last ones."""
        found: list[str] = []
        for path in self.log_files():
            try:
                with path.open("rb") as handle:
                    handle.seek(mark.get(path, 0))
                    text = handle.read(LOG_READ_LIMIT).decode(errors="replace")
            except OSError:
                continue
            found += [self.format_log_line(line) for line in text.splitlines() if line.strip()]
        reasons = [line for line in found if _REASON.search(line)]
        return (reasons or found)[-limit:]

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
