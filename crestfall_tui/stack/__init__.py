"""Runtimes: one stack, run natively, in Docker, or only reached remotely. No Textual here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from crestfall_tui.config import StackConfig
from crestfall_tui.stack.docker import DockerRuntime
from crestfall_tui.stack.docker_engine import EngineError, connect_engine
from crestfall_tui.stack.model import (
    Progress,
    ProgressCallback,
    ServiceState,
    ServiceStatus,
    StackStatus,
)
from crestfall_tui.stack.native import NativeRuntime
from crestfall_tui.stack.remote import RemoteRuntime
from crestfall_tui.stack.runtime import Runtime, recorded_runtime

__all__ = [
    "DockerRuntime",
    "NativeRuntime",
    "Progress",
    "ProgressCallback",
    "RemoteRuntime",
    "Runtime",
    "RuntimeChoice",
    "ServiceState",
    "ServiceStatus",
    "StackStatus",
    "choose_runtime",
]


@dataclass(frozen=True)
class RuntimeChoice:
    """The runtime picked for a stack, and why, when the choice was not the configured one."""

    runtime: Runtime
    note: str = ""


def choose_runtime(stack: StackConfig, override: str | None = None) -> RuntimeChoice:
    """The runtime for `stack`: `override` (from --runtime) or the configured one."""
    wanted = override or stack.runtime
    if wanted == "remote":
        return RuntimeChoice(RemoteRuntime(stack))
    if wanted == "native":
        return RuntimeChoice(NativeRuntime(stack))
    if wanted == "docker":
        return RuntimeChoice(DockerRuntime(stack))
    # A stack keeps the runtime it was brought up with: an engine that appears later must
    # not hide a native stack that is still running (or the reverse).
    recorded = recorded_runtime(stack)
    if recorded == "native":
        return RuntimeChoice(NativeRuntime(stack))
    if recorded == "docker":
        return RuntimeChoice(DockerRuntime(stack))
    try:
        if not docker_socket_present():
            raise EngineError("no Docker engine socket on this host")
        connect_engine(timeout=3).close()
    except EngineError as error:
        reason = error.message.split(";")[0]
        return RuntimeChoice(NativeRuntime(stack), f"{reason}: the stack runs natively")
    docker = DockerRuntime(stack)
    missing = docker.missing_images()
    if missing:
        return RuntimeChoice(NativeRuntime(stack), (
            f"a Docker engine answers, but {', '.join(missing)} is not on this host, so the "
            "stack runs natively; pull or build the images (scripts/build-offline-images) "
            "and set runtime = \"docker\" to run it in containers"))
    return RuntimeChoice(docker)


def docker_socket_present() -> bool:
    """Whether an engine could answer at all; checked before loading the Docker SDK."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return not host.startswith("unix://") or Path(host.removeprefix("unix://")).is_socket()
