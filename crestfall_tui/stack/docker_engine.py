"""Reaching the Docker engine through the Docker SDK, with its failures in the user's words."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from crestfall_tui.errors import CrestfallError

Function = TypeVar("Function", bound=Callable[..., Any])
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


def engine_failures(doing: str) -> Callable[[Function], Function]:
    """An engine that stops answering (or refuses) in the middle of an operation becomes an
    EngineError that says what was being done, instead of docker-py's traceback."""

    def decorate(function: Function) -> Function:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with engine_failure(doing):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@contextmanager
def engine_failure(doing: str) -> Iterator[None]:
    """`with engine_failure("doing x"):` the same translation as engine_failures."""
    try:
        yield
    except Exception as error:
        if not is_engine_failure(error):
            raise
        detail = str(error).strip().splitlines()[0] if str(error).strip() else \
            type(error).__name__
        raise EngineError(f"the Docker engine failed while {doing}: {detail}") from None


def is_engine_failure(error: BaseException) -> bool:
    """docker-py's own errors, and the HTTP layer's when the engine's socket goes away."""
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    return isinstance(error, DockerException | RequestException)


def lines_of(stream: Iterator[bytes], doing: str,
             stop: threading.Event | None = None) -> Iterator[str]:
    """A followed log stream as lines; the engine going away ends it with an EngineError,
    `stop` (which closes the stream) ends it quietly."""
    pending = b""
    try:
        with engine_failure(doing):
            try:
                for chunk in stream:
                    pending += chunk
                    *complete, pending = pending.split(b"\n")
                    for line in complete:
                        yield line.decode(errors="replace")
            except Exception:
                if stop is not None and stop.is_set():
                    return
                raise
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
