"""Health of the docker runtime's containers: waiting for one to be healthy (or saying why
it never will be), and a running container's state as the studio shows it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from crestfall_tui.clients.probes import Probe
from crestfall_tui.errors import ServiceError
from crestfall_tui.stack.model import Progress, ProgressCallback, ServiceState, ServiceStatus

HEALTH_TIMEOUT = 120.0
LOG_LINES_ON_FAILURE = 15


def wait_healthy(service: str, container: Any, healthy: Callable[[], bool],
                 progress: ProgressCallback) -> None:
    """Until `healthy()`; a container that exits, loops through restarts or stays unhealthy
    past HEALTH_TIMEOUT is a ServiceError with its last log lines."""
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while True:
        if healthy():
            progress(Progress(service, ServiceState.HEALTHY, "healthy"))
            return
        state = container.attrs["State"]
        # With a restart policy a crashing container loops through "restarting".
        crashed = (state.get("Status") in ("exited", "dead", "restarting")
                   or container.attrs.get("RestartCount", 0) > 0)
        if crashed or time.monotonic() > deadline:
            health = state.get("Health", {}).get("Status", "no healthcheck")
            why = (f"exited with code {state.get('ExitCode')}" if crashed
                   else f"not healthy after {HEALTH_TIMEOUT:.0f}s ({health})")
            tail = container.logs(tail=LOG_LINES_ON_FAILURE).decode(errors="replace")
            raise ServiceError(service, "\n".join(
                [f"{service} {why}; its last log lines:", *tail.splitlines()]))
        time.sleep(0.1)


def running_status(base: ServiceStatus, state: dict[str, Any], found: Probe) -> ServiceStatus:
    """A running container's status: its healthcheck and our own probe together."""
    started = docker_time(state.get("StartedAt"))
    health = state.get("Health", {}).get("Status")
    if health in (None, "healthy") and found.ok:
        value = ServiceState.HEALTHY
    elif health == "starting" or (health is None and found.answered is False
                                  and started and _age(started) < HEALTH_TIMEOUT):
        value = ServiceState.STARTING
    else:
        value = ServiceState.UNHEALTHY
    return replace(base, state=value, version=found.version, started_at=started,
                   detail=found.detail if found.detail else str(health))


def docker_time(text: str | None) -> datetime | None:
    """Docker's RFC 3339 times carry nanoseconds, more than datetime takes."""
    if not text or text.startswith("0001-"):
        return None
    head, _, fraction = text.rstrip("Z").partition(".")
    try:
        return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}+00:00")
    except ValueError:
        return None


def _age(started: datetime) -> float:
    return (datetime.now(UTC) - started).total_seconds()
