"""What a runtime reports: service states, a stack's status, and start-up progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

SERVICES = ("db", "rest", "search")


class ServiceState(StrEnum):
    """The states a service can be in, as `stack status --json` spells them."""

    HEALTHY = "healthy"
    STARTING = "starting"
    UNHEALTHY = "unhealthy"
    DOWN = "down"
    NOT_INSTALLED = "not installed"


@dataclass(frozen=True)
class ServiceStatus:
    """One service as last probed."""

    name: str
    state: ServiceState
    port: int
    url: str
    """How a client reaches it, secrets included; mask before showing."""
    version: str | None = None
    started_at: datetime | None = None
    detail: str = ""
    """The last health probe's answer, or why the service is not up."""
    secret: str | None = None
    """The password or key inside `url`, so it can be masked."""

    def masked_url(self, *, reveal: bool = False) -> str:
        """The URL with its secret replaced by `***` unless `reveal`."""
        if reveal or not self.secret:
            return self.url
        return self.url.replace(self.secret, "***")

    def to_json(self, *, reveal: bool = False) -> dict[str, Any]:
        """The service as `stack status --json` prints it."""
        return {
            "name": self.name,
            "state": str(self.state),
            "port": self.port,
            "version": self.version,
            "url": self.masked_url(reveal=reveal),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class StackStatus:
    """Every service of one stack."""

    stack: str
    runtime: str
    services: tuple[ServiceStatus, ...] = field(default_factory=tuple)

    def service(self, name: str) -> ServiceStatus:
        """The status of one service by name."""
        return next(s for s in self.services if s.name == name)

    @property
    def healthy(self) -> bool:
        """True when every installed service is healthy."""
        return all(
            s.state in (ServiceState.HEALTHY, ServiceState.NOT_INSTALLED) for s in self.services
        )

    def to_json(self, *, reveal: bool = False) -> dict[str, Any]:
        """The stack as `stack status --json` prints it."""
        return {
            "stack": self.stack,
            "runtime": self.runtime,
            "services": [s.to_json(reveal=reveal) for s in self.services],
        }


@dataclass(frozen=True)
class Connection:
    """One way in to the stack (a URL or a key), with the secret it holds."""

    label: str
    value: str
    secret: str | None = None

    def shown(self, *, reveal: bool = False) -> str:
        """The value with its secret replaced by `***` unless `reveal`."""
        if reveal or not self.secret:
            return self.value
        return self.value.replace(self.secret, "***")


@dataclass(frozen=True)
class Progress:
    """One step of bringing a service up or down, for the CLI and the Stack screen."""

    service: str
    state: ServiceState
    message: str


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """A progress callback that shows nothing."""
