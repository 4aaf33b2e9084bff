"""compose.yaml, read into typed service specs for the docker runtime to carry out.

Only the keys the runtime really implements are accepted; any other key is an error naming
the key and the service, never silently ignored. Variable interpolation and durations follow
the Compose specification; no maintained Python library does either outside docker-compose
v1 itself, which is deprecated, so they are written here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crestfall_tui.errors import CrestfallError

SERVICE_KEYS = frozenset({
    "image", "command", "entrypoint", "environment", "ports", "volumes", "healthcheck",
    "depends_on", "restart", "labels", "networks", "stop_signal", "stop_grace_period",
})
TOP_KEYS = frozenset({"name", "services", "volumes", "networks"})
HEALTHCHECK_KEYS = frozenset({"test", "interval", "timeout", "retries", "start_period",
                              "disable"})
CONDITIONS = frozenset({"service_started", "service_healthy",
                        "service_completed_successfully"})
RESTART_POLICIES = frozenset({"no", "always", "on-failure", "unless-stopped"})


class ComposeError(CrestfallError):
    """compose.yaml is not valid, or uses something the docker runtime does not do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="compose.yaml")


@dataclass(frozen=True)
class PortSpec:
    """A published port: host_ip:host_port -> container_port/protocol."""

    container_port: int
    host_port: int | None = None
    host_ip: str = ""
    protocol: str = "tcp"


@dataclass(frozen=True)
class MountSpec:
    """A named volume or a host path mounted into the container."""

    source: str
    target: str
    kind: str  # "volume" or "bind"
    read_only: bool = False


@dataclass(frozen=True)
class HealthSpec:
    """A container healthcheck, durations in nanoseconds as the Engine API wants them."""

    test: tuple[str, ...]
    interval_ns: int = 30_000_000_000
    timeout_ns: int = 30_000_000_000
    retries: int = 3
    start_period_ns: int = 0


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the compose file, interpolated and checked."""

    name: str
    image: str
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[PortSpec, ...] = ()
    volumes: tuple[MountSpec, ...] = ()
    healthcheck: HealthSpec | None = None
    depends_on: Mapping[str, str] = field(default_factory=dict)
    """Service name -> condition (service_started, service_healthy, ...)."""
    restart: str = "no"
    labels: Mapping[str, str] = field(default_factory=dict)
    networks: tuple[str, ...] = ("default",)
    stop_signal: str | None = None
    stop_grace_period_s: int = 10


@dataclass(frozen=True)
class ComposeProject:
    """The whole file: services, named volumes and networks."""

    services: Mapping[str, ServiceSpec]
    volumes: tuple[str, ...] = ()
    networks: tuple[str, ...] = ("default",)

    def start_order(self, exclude: frozenset[str] = frozenset()) -> list[ServiceSpec]:
        """Services in dependency order (dependencies first), without `exclude`."""
        ordered: list[ServiceSpec] = []
        state: dict[str, str] = {}

        def visit(name: str, path: tuple[str, ...]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "visiting":
                cycle = " -> ".join((*path, name))
                raise ComposeError(f"services depend on each other in a cycle: {cycle}")
            state[name] = "visiting"
            for dependency in self.services[name].depends_on:
                visit(dependency, (*path, name))
            state[name] = "done"
            ordered.append(self.services[name])

        for name in self.services:
            visit(name, ())
        return [spec for spec in ordered if spec.name not in exclude]

    def start_waves(self, exclude: frozenset[str] = frozenset()) -> list[list[ServiceSpec]]:
        """Services grouped so that each group depends only on earlier groups: the
        services of one group can start together."""
        depth: dict[str, int] = {}
        for spec in self.start_order():
            depth[spec.name] = 1 + max((depth[d] for d in spec.depends_on), default=-1)
        waves: list[list[ServiceSpec]] = [[] for _ in range(max(depth.values()) + 1)]
        for spec in self.start_order(exclude):
            waves[depth[spec.name]].append(spec)
        return [wave for wave in waves if wave]

    def dependents(self, name: str) -> list[str]:
        """The services that depend on `name`, directly or not."""
        found: list[str] = []
        for spec in self.start_order():
            if name in spec.depends_on or any(d in found for d in spec.depends_on):
                found.append(spec.name)
        return found


def load_compose(path: Path, env: Mapping[str, str]) -> ComposeProject:
    """Read, interpolate and check a compose file."""
    import yaml  # lazy: only the docker runtime reads compose files

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ComposeError(f"{path}: cannot be read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ComposeError(f"{path}: not valid YAML: {error}") from None
    return parse_compose(raw, env)


def parse_compose(raw: Any, env: Mapping[str, str]) -> ComposeProject:
    """Check a parsed compose document and build the project from it."""
    if not isinstance(raw, dict):
        raise ComposeError("the file must be a mapping with a 'services' key")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise ComposeError(f"top-level key {sorted(unknown)[0]!r} is not supported")
    data = interpolate(raw, env)
    services_raw = _mapping(data.get("services"), "services")
    if not services_raw:
        raise ComposeError("no services defined")
    services = {name: _service(name, _mapping(body, f"services.{name}"))
                for name, body in services_raw.items()}
    for spec in services.values():
        for dependency in spec.depends_on:
            if dependency not in services:
                raise ComposeError(f"service {spec.name!r}: depends_on names an unknown "
                                   f"service {dependency!r}")
    volumes = tuple(_mapping(data.get("volumes") or {}, "volumes"))
    networks = tuple(_mapping(data.get("networks") or {}, "networks")) or ("default",)
    for spec in services.values():
        for mount in spec.volumes:
            if mount.kind == "volume" and mount.source not in volumes:
                raise ComposeError(f"service {spec.name!r}: volume {mount.source!r} is not "
                                   "declared under the top-level 'volumes'")
    project = ComposeProject(services=services, volumes=volumes, networks=networks)
    project.start_order()  # reject dependency cycles now
    return project


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<invalid>\{[^}]*\}?))")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Replace ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $VAR
    and $$ in every string of a parsed compose document."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda match: _substitute(match, env), value)
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    return value


def _substitute(match: re.Match[str], env: Mapping[str, str]) -> str:
    if match["escaped"]:
        return "$"
    if match["invalid"] is not None:
        raise ComposeError(f"invalid interpolation: ${match['invalid']}")
    name = match["bare"] or match["name"]
    op, arg = match["op"], match["arg"] or ""
    present = name in env
    value = env.get(name, "")
    if op in (":-", "-"):
        use_default = not value if op == ":-" else not present
        return arg if use_default else value
    if op in (":?", "?"):
        missing = not value if op == ":?" else not present
        if missing:
            raise ComposeError(f"required variable {name} is not set: {arg or 'no message'}")
        return value
    return value


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_UNIT_NS = {"us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
            "h": 3_600_000_000_000}


def duration_ns(text: Any, where: str) -> int:
    """`1m30s`, `500ms`, `5s` (Compose durations) in nanoseconds."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text * 1_000_000_000
    if not isinstance(text, str) or not text or _DURATION.sub("", text) != "":
        raise ComposeError(f"{where}: expected a duration such as 5s or 1m30s, got {text!r}")
    return int(sum(float(n) * _UNIT_NS[unit] for n, unit in _DURATION.findall(text)))


def _service(name: str, body: dict[str, Any]) -> ServiceSpec:
    unknown = set(body) - SERVICE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ComposeError(f"service {name!r}: key {key!r} is not supported by the "
                           "docker runtime")
    image = body.get("image")
    if not isinstance(image, str) or not image:
        raise ComposeError(f"service {name!r}: 'image' is required")
    restart = str(body.get("restart", "no"))
    if restart.split(":")[0] not in RESTART_POLICIES:
        raise ComposeError(f"service {name!r}: restart {restart!r} is not one of "
                           f"{', '.join(sorted(RESTART_POLICIES))}")
    grace = duration_ns(body.get("stop_grace_period", "10s"), f"{name}.stop_grace_period")
    return ServiceSpec(
        name=name,
        image=image,
        command=_argv(body.get("command"), f"{name}.command"),
        entrypoint=_argv(body.get("entrypoint"), f"{name}.entrypoint"),
        environment=_environment(body.get("environment"), name),
        ports=tuple(_port(item, name) for item in _list(body.get("ports"), f"{name}.ports")),
        volumes=tuple(_mount(item, name)
                      for item in _list(body.get("volumes"), f"{name}.volumes")),
        healthcheck=_healthcheck(body.get("healthcheck"), name),
        depends_on=_depends_on(body.get("depends_on"), name),
        restart=restart,
        labels=_string_map(body.get("labels"), f"{name}.labels"),
        networks=tuple(_names(body.get("networks"), f"{name}.networks")) or ("default",),
        stop_signal=body.get("stop_signal"),
        stop_grace_period_s=max(1, grace // 1_000_000_000),
    )


def _argv(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        import shlex

        return tuple(shlex.split(value))
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    raise ComposeError(f"{where}: expected a string or a list, got {value!r}")


def _environment(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, list):
        pairs = [str(item).split("=", 1) for item in value]
        return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}
    return _string_map(value, f"{name}.environment")


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    data = _mapping(value, where)
    return {str(key): "" if item is None else _scalar(item) for key, item in data.items()}


def _scalar(item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


def _port(item: Any, service: str) -> PortSpec:
    text = str(item)
    match = re.fullmatch(r"(?:(?:\[?(?P<ip>[0-9a-fA-F.:]+?)\]?):)?(?:(?P<host>\d+):)?"
                         r"(?P<container>\d+)(?:/(?P<proto>tcp|udp))?", text)
    if match is None:
        raise ComposeError(f"service {service!r}: port {text!r} is not of the form "
                           "[ip:][host:]container[/protocol]")
    return PortSpec(container_port=int(match["container"]),
                    host_port=int(match["host"]) if match["host"] else None,
                    host_ip=match["ip"] or "", protocol=match["proto"] or "tcp")


def _mount(item: Any, service: str) -> MountSpec:
    if not isinstance(item, str) or ":" not in item:
        raise ComposeError(f"service {service!r}: volume {item!r} is not of the form "
                           "source:target[:ro]")
    parts = item.split(":")
    if len(parts) > 3 or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
        raise ComposeError(f"service {service!r}: volume {item!r} is not of the form "
                           "source:target[:ro]")
    source, target = parts[0], parts[1]
    bind = source.startswith(("/", ".", "~"))
    if bind:
        source = str(Path(source).expanduser().resolve())
    return MountSpec(source=source, target=target, kind="bind" if bind else "volume",
                     read_only=len(parts) == 3 and parts[2] == "ro")


def _healthcheck(value: Any, service: str) -> HealthSpec | None:
    if value is None:
        return None
    data = _mapping(value, f"{service}.healthcheck")
    unknown = set(data) - HEALTHCHECK_KEYS
    if unknown:
        raise ComposeError(f"service {service!r}: healthcheck key {sorted(unknown)[0]!r} is "
                           "not supported")
    if data.get("disable"):
        return HealthSpec(test=("NONE",))
    test = data.get("test")
    if isinstance(test, str):
        test_argv: tuple[str, ...] = ("CMD-SHELL", test)
    elif isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL", "NONE"):
        test_argv = tuple(str(part) for part in test)
    else:
        raise ComposeError(f"service {service!r}: healthcheck test must be a string or a "
                           "list starting with CMD, CMD-SHELL or NONE")
    where = f"{service}.healthcheck"
    retries = data.get("retries", 3)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 1:
        raise ComposeError(f"{where}.retries: expected a positive integer, got {retries!r}")
    return HealthSpec(
        test=test_argv,
        interval_ns=duration_ns(data.get("interval", "30s"), f"{where}.interval"),
        timeout_ns=duration_ns(data.get("timeout", "30s"), f"{where}.timeout"),
        retries=retries,
        start_period_ns=duration_ns(data.get("start_period", "0s"), f"{where}.start_period"),
    )


def _depends_on(value: Any, service: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, list):
        return {str(name): "service_started" for name in value}
    result = {}
    for name, body in _mapping(value, f"{service}.depends_on").items():
        condition = _mapping(body, f"{service}.depends_on.{name}").get(
            "condition", "service_started")
        if condition not in CONDITIONS:
            raise ComposeError(f"service {service!r}: depends_on condition {condition!r} is "
                               f"not one of {', '.join(sorted(CONDITIONS))}")
        result[str(name)] = condition
    return result


def _names(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return list(_mapping(value, where))


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ComposeError(f"{where}: expected a list, got {value!r}")
    return value


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ComposeError(f"{where}: expected a mapping, got {value!r}")
    return value
