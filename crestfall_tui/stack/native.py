"""The native runtime: the stack's services as processes on this host."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from crestfall_tui.config import StackConfig
from crestfall_tui.errors import CrestfallError, ServiceError
from crestfall_tui.stack.log_files import follow_files
from crestfall_tui.stack.model import (
    Connection,
    Progress,
    ProgressCallback,
    ServiceState,
    ServiceStatus,
    StackStatus,
    no_progress,
)
from crestfall_tui.stack.native_db import NativePostgres
from crestfall_tui.stack.native_rest import NativePostgrest
from crestfall_tui.stack.native_search import NativeTypesense
from crestfall_tui.stack.native_service import NativeService
from crestfall_tui.stack.processes import port_in_use, wait_for
from crestfall_tui.stack.runtime import Runtime, locked, record_runtime
from crestfall_tui.stack.secrets import (
    SECRETS_FILE,
    StackSecrets,
    create_secrets,
    load_secrets,
    login_passwords,
    scram_verifier,
)

LOG_LINES_ON_FAILURE = 15
LEFTOVER_WAIT_S = 15.0


class NativeRuntime(Runtime):
    """Postgres, Typesense and (when installed) PostgREST, run from this host's binaries.

    Processes outlive the studio; the next start finds them through pid files and probes.
    """

    name = "native"

    def __init__(self, stack: StackConfig) -> None:
        super().__init__(stack)
        self._services: dict[str, NativeService] | None = None

    def existing_database(self) -> str | None:
        pgdata = self.stack.data_path / "db" / "data"
        return str(pgdata) if (pgdata / "PG_VERSION").exists() else None

    @property
    def services(self) -> dict[str, NativeService]:
        """db, rest, search, in the order they start."""
        if self._services is None:
            def secrets() -> StackSecrets:
                return self.secrets

            self._services = {
                "db": NativePostgres(self.stack, secrets),
                "rest": NativePostgrest(self.stack, secrets),
                "search": NativeTypesense(self.stack, secrets),
            }
        return self._services

    @property
    def db(self) -> NativePostgres:
        db = self.services["db"]
        assert isinstance(db, NativePostgres)
        return db

    def service(self, name: str) -> NativeService:
        """One service by name, or a clear error."""
        if name not in self.services:
            raise CrestfallError(f"unknown service {name!r}: the stack has "
                                 f"{', '.join(self.services)}", title="Stack")
        return self.services[name]

    def status(self) -> StackStatus:
        order = ("db", "rest", "search")
        return StackStatus(stack=self.stack.name, runtime=self.name,
                           services=tuple(self._status(n) for n in order))

    def _status(self, name: str) -> ServiceStatus:
        status = self.services[name].status()
        if name in self.stack.exclude and status.state == ServiceState.DOWN:
            return replace(status, state=ServiceState.NOT_INSTALLED,
                           detail="excluded by the stack's config")
        return status

    @locked("stack up")
    def up(self, progress: ProgressCallback = no_progress,
           exclude: frozenset[str] = frozenset()) -> StackStatus:
        exclude = exclude | frozenset(self.stack.exclude)
        for name in exclude:
            self.service(name)  # an unknown name is an error, not a silent no-op
        self.prepare_secrets()
        to_start = []
        chosen = [s for s in self.services.values() if s.name not in exclude]
        for service in chosen:
            current = service.status()
            if current.state == ServiceState.NOT_INSTALLED:
                progress(Progress(service.name, current.state, current.detail))
            elif current.state == ServiceState.DOWN:
                to_start.append(service)
        self._check_ports(to_start)
        started: list[NativeService] = []
        try:
            for service in chosen:
                if service.missing():
                    continue
                if service in to_start:
                    started.append(service)
                    self._start(service, progress)
                else:
                    self._wait_healthy(service, progress, {})
                if service is self.db:
                    self._initialise_db(progress)
        except CrestfallError:
            for service in reversed(started):
                service.stop()
            raise
        record_runtime(self.stack, self.name)
        return self.status()

    @locked("stack reset-secrets")
    def reset_secrets(self, progress: ProgressCallback = no_progress) -> None:
        if load_secrets(self.stack.data_path) is not None:
            raise CrestfallError(f"{self.stack.data_path / SECRETS_FILE} exists: nothing to "
                                 "reset (crestfall-tui never replaces working secrets)",
                                 title="Secrets")
        if self.existing_database() is None:
            raise CrestfallError(f"stack '{self.stack.name}' has no database yet: `stack up` "
                                 "creates it together with its secrets", title="Secrets")
        if self.db.pid() is not None:
            raise CrestfallError("the database is running: stop the stack first "
                                 "(`crestfall-tui stack down`)", title="Secrets")
        fresh = StackSecrets.generate()
        progress(Progress("db", ServiceState.DOWN, "setting new passwords (single-user mode)"))
        self.db.set_passwords({role: scram_verifier(password)
                               for role, password in login_passwords(fresh).items()
                               if password is not None})
        create_secrets(self.stack.data_path, fresh)
        progress(Progress("db", ServiceState.DOWN, f"new secrets in {SECRETS_FILE}; "
                          "clients need the new keys (`stack status --show-secrets`)"))

    @locked("stack down")
    def down(self, progress: ProgressCallback = no_progress,
             volumes: bool = False) -> StackStatus:
        if volumes:
            raise CrestfallError(
                "--volumes is for the docker runtime; a native stack keeps its data in "
                f"{self.stack.data_path}, which crestfall-tui never deletes", title="Stack")
        for service in reversed(self.services.values()):
            if service.pid() is not None:
                progress(Progress(service.name, ServiceState.DOWN, "stopping"))
                service.stop()
                progress(Progress(service.name, ServiceState.DOWN, "stopped"))
        return self.status()

    @locked("stack restart")
    def restart(self, service: str, progress: ProgressCallback = no_progress) -> StackStatus:
        target = self.service(service)
        reason = target.missing()
        if reason:
            raise ServiceError(service, f"cannot restart {service}: {reason}")
        progress(Progress(service, ServiceState.DOWN, "stopping"))
        target.stop()
        self._check_ports([target])
        self._start(target, progress)
        if target is self.db:
            self._initialise_db(progress)
        return self.status()

    def logs(self, service: str, lines: int = 50) -> list[str]:
        return self.service(service).log_lines(lines)

    def follow_logs(self, service: str,
                    stop: threading.Event | None = None) -> Iterator[str]:
        """What the service writes to its log files (Postgres: its jsonlog, a new file each
        day) from now on."""
        target = self.service(service)
        reason = target.missing()
        if reason:
            raise ServiceError(service, f"{service} has no logs: {reason}")
        return follow_files(target.log_files, target.format_log_line, stop)

    def db_url(self) -> str:
        return self.db.url()

    def connections(self) -> list[Connection]:
        secrets = self.secrets
        found = [Connection(f"{s.name} url", s.url(), s.secret) for s in self.services.values()]
        return [
            *found,
            Connection("anon key", secrets.anon_key, secrets.anon_key),
            Connection("service_role key", secrets.service_role_key, secrets.service_role_key),
            Connection("jwt secret", secrets.jwt_secret, secrets.jwt_secret),
        ]

    def _check_ports(self, services: list[NativeService]) -> None:
        """Refuse before starting anything when a port is taken by something else."""
        for service in services:
            # A killed server's own leftovers (orphaned backends) free its port as they
            # notice it died: wait for them, never blame "another program".
            if self._port_taken(service) and service.leftovers():
                wait_for(functools.partial(self._left_by_itself, service), LEFTOVER_WAIT_S,
                         0.1)
            if self._port_taken(service):
                raise ServiceError(
                    service.name,
                    f"port {service.port} on {self.stack.bind} is in use by another program, "
                    f"so {service.name} cannot start; stop that program or set "
                    f"ports.{service.name} for stack '{self.stack.name}' in the config")

    def _port_taken(self, service: NativeService) -> bool:
        return port_in_use(self.stack.bind, service.port)

    def _left_by_itself(self, service: NativeService) -> bool:
        """The port is free, or nothing of the service's is left to free it."""
        return not self._port_taken(service) or not service.leftovers()

    def _start(self, service: NativeService, progress: ProgressCallback) -> None:
        """Start a service and wait until it is healthy; a failure shows what the service
        logged since this start that says why, never older lines."""
        progress(Progress(service.name, ServiceState.STARTING,
                          f"starting on port {service.port}"))
        mark = service.log_mark()
        try:
            service.start()
        except ServiceError as error:
            lines = service.log_since(mark, LOG_LINES_ON_FAILURE)
            raise ServiceError(service.name, "\n".join(
                [error.message, *(["its log says:", *lines] if lines else [])])) from None
        self._wait_healthy(service, progress, mark)

    def _wait_healthy(self, service: NativeService, progress: ProgressCallback,
                      mark: dict[Path, int]) -> None:
        healthy = wait_for(
            lambda: service.probe().ok or service.pid() is None, service.start_timeout, 0.05)
        status = service.status()
        if not healthy or status.state != ServiceState.HEALTHY:
            lines = service.log_since(mark, LOG_LINES_ON_FAILURE)
            if service.pid() is None:
                why = "exited"
            elif not healthy:
                why = f"not healthy after {service.start_timeout:.0f}s ({status.detail})"
            else:
                why = f"answered healthy, then {status.state.value} ({status.detail})"
            raise ServiceError(service.name, "\n".join(
                [f"{service.name} {why}; its log says:", *lines]))
        version = f" {status.version}" if status.version else ""
        progress(Progress(service.name, ServiceState.HEALTHY, f"healthy{version}"))

    def _initialise_db(self, progress: ProgressCallback) -> None:
        from crestfall_tui.stack.init_sql import initialise_db  # lazy: off the first frame

        initialise_db(self.db.conninfo(), self.secrets, progress)
