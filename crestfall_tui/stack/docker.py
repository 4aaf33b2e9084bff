"""The docker runtime: compose.yaml carried out with the Docker SDK (no compose binary)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from crestfall_tui.clients.probes import Probe, probe_postgres, probe_postgrest, probe_typesense
from crestfall_tui.config import StackConfig
from crestfall_tui.errors import CrestfallError, ServiceError
from crestfall_tui.resources import compose_file
from crestfall_tui.stack.compose import ComposeProject, ServiceSpec, load_compose
from crestfall_tui.stack.docker_engine import (
    connect_engine,
    engine_failure,
    engine_failures,
    is_engine_failure,
    lines_of,
)
from crestfall_tui.stack.docker_health import running_status, wait_healthy
from crestfall_tui.stack.docker_plan import (
    ContainerPlan,
    config_labels,
    part_hashes,
    plan_container,
)
from crestfall_tui.stack.model import (
    Connection,
    Progress,
    ProgressCallback,
    ServiceState,
    ServiceStatus,
    StackStatus,
    no_progress,
)
from crestfall_tui.stack.private_files import private_dir, write_private
from crestfall_tui.stack.processes import port_in_use, url_host
from crestfall_tui.stack.runtime import Runtime, locked, record_runtime
from crestfall_tui.stack.secrets import MASK, SecretsNotCreated, StackSecrets

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
STATE_FILE = "docker.json"
OFFLINE_IMAGES = ("db", "search")
"""The services scripts/build-offline-images can build an image of (not PostgREST)."""


class DockerRuntime(Runtime):
    """One compose project per stack, named `crestfall-<stack>`."""

    name = "docker"

    def __init__(self, stack: StackConfig, client: Any = None) -> None:
        """`client`: a docker-py client to use instead of connecting to the local engine."""
        super().__init__(stack)
        self.project_name = f"crestfall-{stack.name}"
        self._url_host = url_host(stack.bind)
        self._client: Any = client

    # --- what the compose file sees ------------------------------------------------------

    def existing_database(self) -> str | None:
        from docker.errors import DockerException, NotFound

        name = self.volume_name("db-data")
        try:
            self.client.volumes.get(name)
        except NotFound:
            return None
        except (DockerException, CrestfallError):
            return None  # no engine: the database cannot be seen from here
        return f"docker volume {name}"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect_engine()
        return self._client

    def environment(self) -> dict[str, str]:
        """The variables compose.yaml is interpolated with: the stack's over the shell's.
        Before the stack's first `up` its secrets do not exist; the file is then read with
        masks in their place, for status and `down` (nothing is started with them)."""
        try:
            secrets = self.secrets
        except SecretsNotCreated:
            secrets = StackSecrets(*([MASK] * 6))
        ports = self.stack.ports
        return {**os.environ,
                "CRESTFALL_BIND": self.stack.bind,
                "CRESTFALL_DB_PORT": str(ports.db),
                "CRESTFALL_REST_PORT": str(ports.rest),
                "CRESTFALL_SEARCH_PORT": str(ports.search),
                "POSTGRES_PASSWORD": secrets.postgres_password,
                "AUTHENTICATOR_PASSWORD": secrets.authenticator_password,
                "JWT_SECRET": secrets.jwt_secret,
                "TYPESENSE_API_KEY": secrets.search_api_key}

    def project(self) -> ComposeProject:
        return load_compose(compose_file(), self.environment())

    def missing_images(self) -> list[str]:
        """Images of the services this stack runs that are not on this host."""
        exclude = frozenset(self.stack.exclude)
        return [spec.image for spec in self.project().start_order(exclude)
                if not self.client.images.list(name=spec.image)]

    def labels(self, **extra: str) -> dict[str, str]:
        return {PROJECT: self.project_name, "com.docker.compose.version": "2.0.0",
                "com.docker.compose.project.working_dir": str(compose_file().parent),
                "com.docker.compose.project.config_files": str(compose_file()), **extra}

    def _excluded(self) -> set[str]:
        """The config's exclusions, and those of the last `up --exclude`."""
        try:
            state = json.loads((self.stack.data_path / STATE_FILE).read_text())
            remembered = set(state.get("excluded", []))
        except (OSError, ValueError):
            remembered = set()
        return remembered | set(self.stack.exclude)

    def _remember_excluded(self, excluded: set[str]) -> None:
        write_private(private_dir(self.stack.data_path) / STATE_FILE,
                      json.dumps({"excluded": sorted(excluded)}) + "\n")

    # --- finding what exists -------------------------------------------------------------

    def container(self, service: str) -> Any | None:
        found = self.client.containers.list(all=True, filters={"label": [
            f"{PROJECT}={self.project_name}", f"{SERVICE}={service}"]})
        return found[0] if found else None

    def network_name(self, network: str = "default") -> str:
        return f"{self.project_name}_{network}"

    def volume_name(self, volume: str) -> str:
        return f"{self.project_name}_{volume}"

    # --- the Runtime interface -----------------------------------------------------------

    @engine_failures("reading the stack's status")
    def status(self) -> StackStatus:
        project = self.project()
        excluded = self._excluded()
        services = tuple(self._status(spec, spec.name in excluded)
                         for spec in project.start_order())
        return StackStatus(stack=self.stack.name, runtime=self.name, services=services)

    @locked("stack up")
    @engine_failures("starting the stack")
    def up(self, progress: ProgressCallback = no_progress,
           exclude: frozenset[str] = frozenset()) -> StackStatus:
        """Carry out compose.yaml as `docker compose up` does: containers whose
        configuration is unchanged are kept (started again if stopped), changed ones are
        recreated, saying what changed. Everything that can be checked (images, ports) is
        checked before anything is removed or started; a failed `up` removes the
        containers it created and stops those it started."""
        self.prepare_secrets()
        project = self.project()
        exclude = self._exclusions(project, exclude | frozenset(self.stack.exclude), progress)
        self._remember_excluded(set(exclude))
        specs = project.start_order(exclude)
        for spec in specs:
            self._ensure_image(spec)
        plans = {spec.name: self._plan(spec) for spec in specs}
        self._check_ports(specs, plans)
        self._ensure_network_and_volumes(project)
        created: list[Any] = []
        restarted: list[Any] = []
        try:
            # Services of one wave start together, as `docker compose up` does; a wave
            # starts once every service it depends on is healthy.
            for wave in project.start_waves(exclude):
                waiting = []
                for spec in wave:
                    plan = plans[spec.name]
                    container = plan.existing
                    if plan.action == "keep" and self._healthy(spec, container):
                        progress(Progress(spec.name, ServiceState.HEALTHY, "already running"))
                        continue
                    if plan.action == "start" and container is not None:
                        progress(Progress(spec.name, ServiceState.STARTING,
                                          "starting its stopped container (configuration "
                                          "unchanged)"))
                        container.start()
                        restarted.append(container)
                    elif plan.creates:
                        if plan.action == "recreate":
                            progress(Progress(spec.name, ServiceState.STARTING,
                                              "recreating: " + _changed(plan.reasons)))
                            self._remove(container)
                        progress(Progress(spec.name, ServiceState.STARTING,
                                          self._starting(spec)))
                        container = self._create(spec, plan)
                        created.append(container)
                    waiting.append((spec, container))
                for spec, container in waiting:
                    self._wait_healthy(spec, container, progress)
                if any(spec.name == "db" for spec in wave):
                    self._initialise_db(progress)
        except Exception as error:
            if isinstance(error, CrestfallError) or is_engine_failure(error):
                # Best effort: the engine may be gone.
                for container in reversed(created):
                    with contextlib.suppress(Exception):
                        self._remove(container)
                for container in reversed(restarted):
                    with contextlib.suppress(Exception):
                        container.stop(timeout=10)
            raise
        record_runtime(self.stack, self.name)
        return self.status()

    def _exclusions(self, project: ComposeProject, exclude: frozenset[str],
                    progress: ProgressCallback) -> frozenset[str]:
        """The services left out: those asked for and those that depend on them; each is
        said, with whether a container of it from an earlier `up` still runs."""
        unknown = exclude - set(project.services)
        if unknown:
            raise CrestfallError(f"--exclude {sorted(unknown)[0]}: compose.yaml has no such "
                                 f"service (it has {', '.join(project.services)})",
                                 title="Docker")
        dependents: dict[str, str] = {}
        for name in sorted(exclude):
            for needing in project.dependents(name):
                if needing not in exclude:
                    dependents.setdefault(needing, name)
        for name in sorted(exclude | set(dependents)):
            left_out = [d for d in project.dependents(name) if dependents.get(d) == name]
            note = (f"excluded: it depends on {dependents[name]}, which is left out"
                    if name in dependents else "excluded")
            if left_out:
                verb = "depends" if len(left_out) == 1 else "depend"
                note += f" ({_listed(left_out)} {verb} on it, so left out too)"
            container = self.container(name)
            if container is not None and container.attrs["State"].get("Status") == "running":
                note += ("; its container from an earlier up still runs (`stack down` "
                         "stops it)")
            progress(Progress(name, ServiceState.NOT_INSTALLED, note))
        return exclude | frozenset(dependents)

    def _plan(self, spec: ServiceSpec) -> ContainerPlan:
        image_id = str(self.client.images.get(spec.image).id)
        return plan_container(spec.name, self.container(spec.name),
                              part_hashes(self._container_config(spec), image_id))

    def _check_ports(self, specs: list[ServiceSpec], plans: dict[str, ContainerPlan]) -> None:
        """Refuse before touching anything when a host port a service will publish is taken
        by something other than the service's own running container."""
        for spec in specs:
            plan = plans[spec.name]
            if plan.action == "keep":
                continue
            ours = plan.existing is not None and \
                plan.existing.attrs["State"].get("Status") == "running"
            for port in spec.ports:
                if port.host_port and not ours and \
                        port_in_use(port.host_ip or self.stack.bind, port.host_port):
                    raise ServiceError(
                        spec.name,
                        f"port {port.host_port} on {port.host_ip or self.stack.bind} is in use "
                        f"by another program, so {spec.name} cannot start; stop that program "
                        f"or set ports.{spec.name} for stack '{self.stack.name}' in the config")

    @locked("stack down")
    @engine_failures("stopping the stack")
    def down(self, progress: ProgressCallback = no_progress,
             volumes: bool = False) -> StackStatus:
        project = self.project()
        for spec in reversed(project.start_order()):
            container = self.container(spec.name)
            if container is not None:
                progress(Progress(spec.name, ServiceState.DOWN, "stopping"))
                self._remove(container)
                progress(Progress(spec.name, ServiceState.DOWN, "removed"))
        from docker.errors import NotFound

        for network in project.networks:
            with contextlib.suppress(NotFound):
                self.client.networks.get(self.network_name(network)).remove()
        if volumes:
            for volume in project.volumes:
                try:
                    self.client.volumes.get(self.volume_name(volume)).remove()
                    progress(Progress("stack", ServiceState.DOWN, f"volume {volume} removed"))
                except NotFound:
                    pass
        return self.status()

    @locked("stack restart")
    @engine_failures("restarting a service")
    def restart(self, service: str, progress: ProgressCallback = no_progress) -> StackStatus:
        project = self.project()
        if service not in project.services:
            raise CrestfallError(f"unknown service {service!r}: compose.yaml has "
                                 f"{', '.join(project.services)}", title="Stack")
        spec = project.services[service]
        container = self.container(service)
        if container is None and service in self._excluded():
            raise ServiceError(service, f"{service} is excluded from stack "
                                        f"'{self.stack.name}' (the config's `exclude`, or the "
                                        "last `up --exclude`), so there is nothing to restart; "
                                        "`stack up` without excluding it starts it")
        if container is None:
            raise ServiceError(service, f"{service} has no container: `stack up` creates it")
        progress(Progress(service, ServiceState.STARTING, "restarting"))
        container.restart(timeout=spec.stop_grace_period_s)
        self._wait_healthy(spec, container, progress)
        if service == "db":
            self._initialise_db(progress)
        return self.status()

    @engine_failures("reading logs")
    def logs(self, service: str, lines: int = 50, since: datetime | None = None) -> list[str]:
        container = self.container(service)
        if container is None:
            raise ServiceError(service, f"{service} has no container")
        raw: bytes = container.logs(tail=lines, timestamps=True, since=since)
        return raw.decode(errors="replace").splitlines()[-lines:]

    def follow_logs(self, service: str,
                    stop: threading.Event | None = None) -> Iterator[str]:
        """Log lines as the service writes them; setting `stop` (or closing the iterator)
        closes the engine's stream."""
        with engine_failure("following logs"):
            container = self.container(service)
            if container is None:
                raise ServiceError(service, f"{service} has no container")
            stream = container.logs(stream=True, follow=True, timestamps=True,
                                    since=datetime.now(UTC))
        if stop is not None:
            def close_when_stopped() -> None:
                stop.wait()
                stream.close()

            threading.Thread(target=close_when_stopped, daemon=True,
                             name=f"follow-{service}").start()
        return lines_of(stream, "following logs", stop)

    def db_url(self) -> str:
        return (f"postgresql://postgres:{self.secrets.postgres_password}@{self._url_host}:"
                f"{self.stack.ports.db}/postgres")

    def connections(self) -> list[Connection]:
        secrets = self.secrets
        return [
            Connection("db url", self.db_url(), secrets.postgres_password),
            Connection("rest url", f"http://{self._url_host}:{self.stack.ports.rest}"),
            Connection("search url", self._search_url(secrets), secrets.search_api_key),
            Connection("anon key", secrets.anon_key, secrets.anon_key),
            Connection("service_role key", secrets.service_role_key, secrets.service_role_key),
            Connection("jwt secret", secrets.jwt_secret, secrets.jwt_secret),
        ]

    # --- the work ------------------------------------------------------------------------

    def _search_url(self, secrets: StackSecrets) -> str:
        return f"http://{self._url_host}:{self.stack.ports.search}?api_key={secrets.search_api_key}"

    def _starting(self, spec: ServiceSpec) -> str:
        ports = ", ".join(f"{p.host_port}" for p in spec.ports if p.host_port)
        return f"starting {spec.image}" + (f" on port {ports}" if ports else "")

    def _ensure_network_and_volumes(self, project: ComposeProject) -> None:
        from docker.errors import NotFound

        for network in project.networks:
            try:
                self.client.networks.get(self.network_name(network))
            except NotFound:
                self.client.networks.create(
                    self.network_name(network), driver="bridge",
                    labels=self.labels(**{"com.docker.compose.network": network}))
        for volume in project.volumes:
            try:
                self.client.volumes.get(self.volume_name(volume))
            except NotFound:
                self.client.volumes.create(
                    self.volume_name(volume),
                    labels=self.labels(**{"com.docker.compose.volume": volume}))

    def _container_config(self, spec: ServiceSpec) -> dict[str, Any]:
        """How the service's container is created (the Docker SDK's arguments), but its
        labels: what its configuration hash covers."""
        network = self.network_name(spec.networks[0])
        restart = spec.restart.split(":")
        policy: dict[str, Any] = {"Name": "" if restart[0] == "no" else restart[0]}
        if restart[0] == "on-failure" and len(restart) > 1:
            policy["MaximumRetryCount"] = int(restart[1])
        config: dict[str, Any] = {
            "image": spec.image,
            "environment": dict(spec.environment),
            "ports": {f"{p.container_port}/{p.protocol}": (p.host_ip, p.host_port)
                      if p.host_ip else p.host_port for p in spec.ports},
            "volumes": {(self.volume_name(m.source) if m.kind == "volume" else m.source):
                        {"bind": m.target, "mode": "ro" if m.read_only else "rw"}
                        for m in spec.volumes},
            "network": network,
            "networks": [self.network_name(name) for name in spec.networks],
            "restart_policy": policy,
            "hostname": spec.name,
        }
        if spec.command is not None:
            config["command"] = list(spec.command)
        if spec.entrypoint is not None:
            config["entrypoint"] = list(spec.entrypoint)
        if spec.stop_signal:
            config["stop_signal"] = spec.stop_signal
        if spec.healthcheck is not None:
            check = spec.healthcheck
            config["healthcheck"] = {"test": list(check.test), "interval": check.interval_ns,
                                     "timeout": check.timeout_ns, "retries": check.retries,
                                     "start_period": check.start_period_ns}
        return config

    def _create(self, spec: ServiceSpec, plan: ContainerPlan) -> Any:
        """Create the service's container from its spec and start it; one that cannot start
        is removed again, never left behind in `Created`."""
        from docker.errors import APIError

        config = self._container_config(spec)
        image = config.pop("image")
        networks = config.pop("networks")
        network = config["network"]
        config["networking_config"] = {
            network: self.client.api.create_endpoint_config(aliases=[spec.name])}
        config["labels"] = self.labels(
            **{SERVICE: spec.name, "com.docker.compose.oneoff": "False",
               "com.docker.compose.container-number": "1"},
            **spec.labels, **config_labels(plan.hashes))
        container = None
        try:
            container = self.client.containers.create(
                image, name=f"{self.project_name}-{spec.name}-1", detach=True, **config)
            for extra in networks[1:]:
                self.client.networks.get(extra).connect(container, aliases=[spec.name])
            container.start()
        except APIError as error:
            if container is not None:
                with contextlib.suppress(Exception):
                    container.remove(force=True, v=True)
            raise ServiceError(spec.name, f"{spec.name} could not start: "
                                          f"{error.explanation or error}") from None
        return container

    def _ensure_image(self, spec: ServiceSpec) -> None:
        from docker.errors import APIError, ImageNotFound

        try:
            self.client.images.get(spec.image)
            return
        except ImageNotFound:
            pass
        variable = f"CRESTFALL_{spec.name.upper()}_IMAGE"
        try:
            self.client.images.pull(spec.image)
        except APIError as error:
            reason = str(error.explanation or error).splitlines()[0][:160]
            advice = (f"On a host without registry access, build local images with "
                      f"scripts/build-offline-images and set {variable} to one of them"
                      if spec.name in OFFLINE_IMAGES else
                      f"Set {variable} to an image of it on this host, or leave it out "
                      f"(`stack up --exclude {spec.name}`, or exclude = [\"{spec.name}\"] "
                      "in the stack's config)")
            raise ServiceError(
                spec.name,
                f"image {spec.image} is not on this host and could not be pulled ({reason}); "
                "nothing was changed. " + advice) from None

    def _healthy(self, spec: ServiceSpec, container: Any) -> bool:
        container.reload()
        state = container.attrs["State"]
        if state.get("Status") != "running":
            return False
        if spec.healthcheck is not None and spec.healthcheck.test != ("NONE",):
            return bool(state.get("Health", {}).get("Status") == "healthy")
        return self._probe(spec.name).ok

    def _wait_healthy(self, spec: ServiceSpec, container: Any,
                      progress: ProgressCallback) -> None:
        wait_healthy(spec.name, container, lambda: self._healthy(spec, container), progress)

    def _remove(self, container: Any) -> None:
        from docker.errors import NotFound

        try:
            container.stop(timeout=10)
            container.remove(v=True)  # the anonymous volumes only; named ones stay
        except NotFound:
            pass

    def _initialise_db(self, progress: ProgressCallback) -> None:
        from crestfall_tui.stack.init_sql import initialise_db

        initialise_db(self.db_url(), self.secrets, progress)

    def _probe(self, service: str) -> Probe:
        secrets = self.secrets
        if service == "db":
            return probe_postgres(self.db_url())
        if service == "search":
            return probe_typesense(f"http://{self._url_host}:{self.stack.ports.search}",
                                   secrets.search_api_key)
        if service == "rest":
            return probe_postgrest(f"http://{self._url_host}:{self.stack.ports.rest}")
        return Probe(ok=True, answered=True, detail="running")

    def _status(self, spec: ServiceSpec, excluded: bool) -> ServiceStatus:
        port = next((p.host_port for p in spec.ports if p.host_port), 0) or 0
        try:
            urls = {c.label.split(" ")[0]: c for c in self.connections()}
        except SecretsNotCreated:
            urls = {}
        link = urls.get(spec.name)
        base = ServiceStatus(name=spec.name, state=ServiceState.DOWN, port=port,
                             url=link.value if link else "", secret=link.secret if link else None,
                             detail="no container")
        container = self.container(spec.name)
        running = container is not None and \
            container.attrs["State"].get("Status") == "running"
        if excluded and not running:
            return replace(base, state=ServiceState.NOT_INSTALLED,
                            detail="excluded from this stack (stack up --exclude)")
        if container is None:
            return base
        state = container.attrs["State"]
        if not running:
            return replace(base, detail=f"{state.get('Status')} (exit code "
                                         f"{state.get('ExitCode')})")
        found = running_status(base, state, self._probe(spec.name))
        if excluded:
            return replace(found, detail="excluded from this stack, but its container from "
                                         "an earlier up still runs (`stack down` stops it)")
        return found



def _listed(names: list[str]) -> str:
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def _changed(parts: list[str]) -> str:
    """What changed in a container's configuration, in words."""
    if parts and " " in parts[0]:
        return parts[0]
    return f"its {_listed(parts)} changed" if parts else "its configuration changed"
