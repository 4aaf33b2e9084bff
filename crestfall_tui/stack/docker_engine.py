"""Reaching the Docker engine through the Docker SDK, with its failures in the user's words."""

from __future__ import annotations

import os
from typing import Any

from crestfall_tui.errors import CrestfallError

MIN_API_VERSION = (1, 41)  # Docker 20.10, Debian 12's engine
START_HINT = "start one (scripts/start-docker-engine does it on Debian), or use --runtime native"


class EngineError(CrestfallError):
    """No usable Docker engine: missing, not allowed, or too old."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Docker")


def connect_engine(timeout: int = 60) -> Any:
    """A docker-py client for the local engine, checked to answer and to be new enough."""
    import docker  # lazy: only the docker runtime needs the SDK
    from docker.errors import DockerException

    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=timeout)
        version = client.version()
    except PermissionError:
        raise EngineError(f"permission denied on the Docker socket {where}: add your user to "
                          "the 'docker' group, or run as root") from None
    except DockerException as error:
        text = str(error)
        if "Permission denied" in text or "PermissionError" in text:
            raise EngineError(f"permission denied on the Docker socket {where}: add your user "
                              "to the 'docker' group, or run as root") from None
        raise EngineError(f"no Docker engine answers at {where}; {START_HINT}") from None
    api = tuple(int(part) for part in str(version.get("ApiVersion", "0.0")).split(".")[:2])
    if api < MIN_API_VERSION:
        raise EngineError(
            f"the Docker engine at {where} speaks API {version.get('ApiVersion')} "
            f"(Docker {version.get('Version')}); crestfall-tui needs API "
            f"{MIN_API_VERSION[0]}.{MIN_API_VERSION[1]} (Docker 20.10) or newer")
    return client


def engine_answers() -> bool:
    """True when a Docker engine answers quickly (for runtime = "auto")."""
    try:
        connect_engine(timeout=3).close()
    except EngineError:
        return False
    return True
