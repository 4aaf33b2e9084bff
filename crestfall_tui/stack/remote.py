"""The remote runtime: a stack crestfall-tui only connects to (staging, production)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

from crestfall_tui.clients.probes import Probe, probe_postgres, probe_postgrest, probe_typesense
from crestfall_tui.config import RemoteEndpoints, StackConfig
from crestfall_tui.errors import CrestfallError
from crestfall_tui.stack.model import (
    Connection,
    ProgressCallback,
    ServiceState,
    ServiceStatus,
    StackStatus,
    no_progress,
)
from crestfall_tui.stack.runtime import Runtime


class RemoteRuntime(Runtime):
    """Probes the services at the configured URLs; never starts or stops anything."""

    name = "remote"
    manages_services = False

    def __init__(self, stack: StackConfig) -> None:
        super().__init__(stack)
        assert stack.remote is not None  # load_config guarantees it for runtime = "remote"
        self.endpoints: RemoteEndpoints = stack.remote

    def status(self) -> StackStatus:
        ends = self.endpoints
        db_password = urlsplit(ends.db_url).password
        services = [_status("db", ends.db_url, probe_postgres(ends.db_url), db_password)]
        if ends.rest_url:
            services.append(_status("rest", ends.rest_url, probe_postgrest(ends.rest_url), None))
        else:
            services.append(_absent("rest"))
        if ends.search_url:
            found = probe_typesense(ends.search_url, ends.search_api_key or "")
            services.append(_status("search", ends.search_url, found, ends.search_api_key))
        else:
            services.append(_absent("search"))
        return StackStatus(stack=self.stack.name, runtime=self.name, services=tuple(services))

    def up(self, progress: ProgressCallback = no_progress,
           exclude: frozenset[str] = frozenset()) -> StackStatus:
        return self.status()

    def down(self, progress: ProgressCallback = no_progress,
             volumes: bool = False) -> StackStatus:
        raise self._not_ours("stopped")

    def restart(self, service: str, progress: ProgressCallback = no_progress) -> StackStatus:
        raise self._not_ours("restarted")

    def logs(self, service: str, lines: int = 50) -> list[str]:
        raise self._no_logs(service)

    def follow_logs(self, service: str,
                    stop: threading.Event | None = None) -> Iterator[str]:
        raise self._no_logs(service)

    def _no_logs(self, service: str) -> CrestfallError:
        return CrestfallError(
            f"stack '{self.stack.name}' is remote: {service}'s logs are on its own hosts, "
            "which crestfall-tui does not reach (it only connects to the services)",
            title="Remote stack")

    def db_url(self) -> str:
        return self.endpoints.db_url

    def read_only_db_url(self) -> str:
        if self.endpoints.read_only_db_url is None:
            raise CrestfallError(
                f"stack '{self.stack.name}' is read-only, but [stacks.{self.stack.name}.remote] "
                "has no read_only_db_url: give it the URL of a login that cannot write (on a "
                "Crestfall stack, crestfall_readonly); a superuser session cannot be made "
                "read-only", title="Read-only")
        return self.endpoints.read_only_db_url

    def connections(self) -> list[Connection]:
        ends = self.endpoints
        found = [Connection("db url", ends.db_url, urlsplit(ends.db_url).password)]
        if ends.rest_url:
            found.append(Connection("rest url", ends.rest_url))
        if ends.search_url:
            found.append(Connection("search url", ends.search_url))
        if ends.search_api_key:
            found.append(Connection("search api key", ends.search_api_key, ends.search_api_key))
        return found

    def _not_ours(self, what: str) -> CrestfallError:
        return CrestfallError(f"stack '{self.stack.name}' is remote: its services are not "
                              f"{what} by crestfall-tui", title="Remote stack")


def _status(name: str, url: str, found: Probe, secret: str | None) -> ServiceStatus:
    port = urlsplit(url).port or 0
    if found.ok:
        state = ServiceState.HEALTHY
    else:
        state = ServiceState.UNHEALTHY if found.answered else ServiceState.DOWN
    return ServiceStatus(name=name, state=state, port=port, url=url, version=found.version,
                         started_at=found.started_at, detail=found.detail, secret=secret)


def _absent(name: str) -> ServiceStatus:
    return ServiceStatus(name=name, state=ServiceState.NOT_INSTALLED, port=0, url="",
                         detail="no URL configured for this remote stack")
