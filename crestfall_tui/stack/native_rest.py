"""PostgREST from a `postgrest` binary on PATH; without one the service is `not installed`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from crestfall_tui.clients.probes import Probe, probe_postgrest
from crestfall_tui.errors import ServiceError
from crestfall_tui.stack.native_service import NativeService
from crestfall_tui.stack.processes import PidFileProcess, tail

AUTHENTICATOR = "authenticator"


class NativePostgrest(NativeService):
    """The `rest` service, logging in as `authenticator` and serving the public schema."""

    name = "rest"
    start_timeout = 30.0

    @property
    def port(self) -> int:
        return self.stack.ports.rest

    def missing(self) -> str | None:
        if shutil.which("postgrest") is None:
            return "no postgrest binary on PATH"
        return None

    def url(self) -> str:
        return f"http://{self.url_host}:{self.port}"

    def _process(self) -> PidFileProcess:
        return PidFileProcess(self.dir / "postgrest.pid", shutil.which("postgrest") or "postgrest",
                              str(self.dir / "postgrest.conf"))

    def pid(self) -> int | None:
        return self._process().pid()

    def probe(self) -> Probe:
        return probe_postgrest(self.url())

    def start(self) -> None:
        binary = shutil.which("postgrest")
        if binary is None:
            raise ServiceError(self.name, "no postgrest binary on PATH")
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        conf = self.dir / "postgrest.conf"
        settings = {
            "db-uri": f"postgres://{AUTHENTICATOR}:{self.secrets.authenticator_password}"
                      f"@{self.url_host}:{self.stack.ports.db}/postgres",
            "db-schemas": "public",
            "db-anon-role": "anon",
            "jwt-secret": self.secrets.jwt_secret,
            "server-host": self.stack.bind,
            "server-port": str(self.port),
        }
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(f'{key} = "{value}"\n' for key, value in settings.items())
        self._process().spawn([str(conf)], self.dir / "postgrest.log", {})

    def stop(self) -> None:
        self._process().stop(timeout=15)

    def log_files(self) -> list[Path]:
        return [self.dir / "postgrest.log"]

    def log_lines(self, lines: int) -> list[str]:
        return tail(self.dir / "postgrest.log", lines)
