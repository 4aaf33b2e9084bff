"""Runtimes: one stack, run natively, in Docker, or only reached remotely. No Textual here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from crestfall_tui.config import StackConfig
from crestfall_tui.errors import CrestfallError
from crestfall_tui.stack.model import (
    Progress,
    ProgressCallback,
    ServiceState,
    ServiceStatus,
    StackStatus,
)
from crestfall_tui.stack.native import NativeRuntime
from crestfall_tui.stack.remote import RemoteRuntime
from crestfall_tui.stack.runtime import Runtime

__all__ = [
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
        raise CrestfallError(
            "the docker runtime is not available in this version of crestfall-tui; "
            "use --runtime native (or runtime = \"native\" in the config)", title="Docker")
    note = ""
    if docker_engine_socket() is not None:
        note = ("a Docker engine socket is present, but this version of crestfall-tui runs "
                "the stack natively; the docker runtime comes in a later version")
    return RuntimeChoice(NativeRuntime(stack), note)


def docker_engine_socket() -> Path | None:
    """The local Docker engine's socket, when one is there to answer."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return None
    path = Path(host.removeprefix("unix://"))
    return path if path.is_socket() else None
