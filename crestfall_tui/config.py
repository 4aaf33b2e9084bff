"""Stacks and settings, read from one TOML file.

The file is found at `--config FILE`, else `$CRESTFALL_CONFIG`, else the platform config dir
(`crestfall/config.toml`). A missing file means defaults; the `local` stack always exists.

Checked by hand against the dataclasses' own field types rather than with a validation
library: the config is read before the studio's first frame, and pydantic's model building
alone cost 0.11 s of a 0.6 s start.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import platformdirs

from crestfall_tui.errors import ConfigError

CONFIG_ENV = "CRESTFALL_CONFIG"
RuntimeName = Literal["auto", "native", "docker", "remote"]
RUNTIMES: tuple[str, ...] = get_args(RuntimeName)


@dataclass(frozen=True)
class Ports:
    """TCP ports the stack's services listen on, on the stack's `bind` address."""

    db: int = 5432
    """PostgreSQL."""
    rest: int = 5433
    """PostgREST."""
    search: int = 8018
    """Typesense's API (its peering port is picked free at the first start)."""


@dataclass(frozen=True)
class RemoteEndpoints:
    """How to reach a stack that crestfall-tui does not run (runtime = "remote")."""

    db_url: str
    """A `postgresql://` URL, password included."""
    read_only_db_url: str | None = None
    """A URL for a login that cannot write (a Crestfall stack's `crestfall_readonly`), used
    when the stack is read-only; a read-only remote stack without one is refused."""
    rest_url: str | None = None
    """PostgREST's base URL, if the stack has one."""
    search_url: str | None = None
    """Typesense's base URL, if the stack has one."""
    search_api_key: str | None = None
    """Typesense's API key."""


@dataclass(frozen=True)
class StackConfig:
    """One named stack: where it runs and where its data lives."""

    name: str = "local"
    runtime: RuntimeName = "auto"
    """auto = docker when a Docker engine answers, native otherwise."""
    data_dir: str | None = None
    """Data, logs, pid files and secrets; default: platform data dir / stacks/<name>."""
    bind: str = "127.0.0.1"
    """The address every service listens on; 0.0.0.0 is an explicit choice."""
    ports: Ports = field(default_factory=Ports)
    read_only: bool = False
    """Open every database session read-only: as a login that cannot write."""
    database: str | None = None
    """The database the studio and `query` open; default: the one the URL names
    (`postgres`). The studio remembers the last one chosen (f12)."""
    release_idle_results: int = 15
    """Seconds a half-read query result may hold its transaction (locks, snapshot) while
    nobody scrolls it; then it is released, keeping the rows shown. 0: never."""
    exclude: tuple[str, ...] = ()
    """Services this stack does not run (e.g. ["rest"] where no PostgREST is available)."""
    remote: RemoteEndpoints | None = None

    @property
    def data_path(self) -> Path:
        """The stack's data dir, resolved. A remote stack's default is named after where its
        database is too, so two configs that call different servers by the same name never
        share a history or an action log."""
        if self.data_dir:
            return Path(self.data_dir).expanduser().resolve()
        if self.remote is not None:
            where = urlsplit(self.remote.db_url)
            key = f"{where.username}@{where.hostname}:{where.port}{where.path}"
            digest = hashlib.sha256(key.encode()).hexdigest()[:10]
            return default_data_root() / "stacks" / f"{self.name}-{digest}"
        return default_data_root() / "stacks" / self.name


@dataclass(frozen=True)
class Config:
    """The whole config file."""

    stacks: dict[str, StackConfig] = field(default_factory=dict)
    keymap: dict[str, str] = field(default_factory=dict)
    """Keys by binding id (`"query.run" = "ctrl+enter"`), over the studio's own; `?` in the
    studio shows every key in force, remapped ones included."""

    def stack(self, name: str) -> StackConfig:
        """The stack called `name`, or a ConfigError listing the ones that exist."""
        stacks = self.all_stacks()
        if name not in stacks:
            known = ", ".join(sorted(stacks))
            raise ConfigError(f"unknown stack {name!r}: the config defines {known}")
        return stacks[name]

    def all_stacks(self) -> dict[str, StackConfig]:
        """Every stack, `local` included even when the file does not name it."""
        return {"local": StackConfig(name="local"), **self.stacks}


def default_data_root() -> Path:
    """Where stacks keep their data when the config does not say.

    Root's home is not searchable by the unprivileged user Postgres runs as, so a root
    user's stacks live under /var/lib, as system services' data does on Debian.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/crestfall")
    return platformdirs.user_data_path("crestfall")


def config_path(explicit: str | None = None) -> Path:
    """The config file to read: `--config`, then `$CRESTFALL_CONFIG`, then the platform's."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    return platformdirs.user_config_path("crestfall") / "config.toml"


def config_named(explicit: str | None = None) -> bool:
    """Whether the user named the config file (`--config` or `$CRESTFALL_CONFIG`): such a
    file must exist, or a typo would silently open another stack."""
    return bool(explicit or os.environ.get(CONFIG_ENV))


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read and check the config file; a missing file means defaults unless `required`."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such file (a config named by --config or "
                              f"${CONFIG_ENV} must exist)") from None
        return Config()
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return _config(data)
    except _Invalid as error:
        raise ConfigError(f"{path}: {error}") from None


class _Invalid(Exception):
    """One bad key: `key: expected ..., got ...`."""


def _config(data: dict[str, Any]) -> Config:
    _known_keys(data, {"stacks", "keymap"}, "")
    stacks = _table(data.get("stacks", {}), "stacks")
    return Config(stacks={name: _stack(name, _table(value, f"stacks.{name}"))
                          for name, value in stacks.items()},
                  keymap=_keymap(_table(data.get("keymap", {}), "keymap")))


_KEYS = re.compile(r"[a-z0-9_+\-]+(,[a-z0-9_+\-]+)*")


def _keymap(data: dict[str, Any]) -> dict[str, str]:
    for binding, keys in data.items():
        if not isinstance(keys, str) or not _KEYS.fullmatch(keys.replace(" ", "")):
            raise _Invalid(f"keymap.{binding}: expected keys such as \"ctrl+r\" or "
                           f"\"f5,ctrl+r\", got {keys!r}")
    return {binding: keys.replace(" ", "") for binding, keys in data.items()}


def _stack(name: str, data: dict[str, Any]) -> StackConfig:
    where = f"stacks.{name}"
    _known_keys(data, {f.name for f in dataclasses.fields(StackConfig)} - {"name"}, where)
    runtime = data.get("runtime", "auto")
    if runtime not in RUNTIMES:
        options = ", ".join(repr(r) for r in RUNTIMES)
        raise _Invalid(f"{where}.runtime: expected one of {options}, got {runtime!r}")
    bind = _typed(data, "bind", str, where, "127.0.0.1")
    try:
        ipaddress.ip_address(bind)
    except ValueError:
        raise _Invalid(f"{where}.bind: expected an IP address such as 127.0.0.1, "
                       f"got {bind!r}") from None
    remote = None
    if "remote" in data:
        remote = _remote(_table(data["remote"], f"{where}.remote"), f"{where}.remote")
    elif runtime == "remote":
        raise _Invalid(f"{where}.remote: expected a [{where}.remote] table with db_url "
                       "for a remote stack")
    return StackConfig(
        name=name,
        runtime=runtime,
        data_dir=_typed(data, "data_dir", str, where, None),
        bind=bind,
        ports=_ports(_table(data.get("ports", {}), f"{where}.ports"), f"{where}.ports"),
        read_only=_typed(data, "read_only", bool, where, False),
        database=_typed(data, "database", str, where, None),
        release_idle_results=_seconds(data, "release_idle_results", where, 15),
        exclude=_services(data.get("exclude", []), f"{where}.exclude"),
        remote=remote,
    )


SERVICE_NAMES = ("db", "rest", "search")


def _seconds(data: dict[str, Any], key: str, where: str, default: int) -> int:
    value = _typed(data, key, int, where, default)
    if value < 0:
        raise _Invalid(f"{where}.{key}: expected a number of seconds, 0 or more, got {value!r}")
    return int(value)


def _services(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or any(item not in SERVICE_NAMES for item in value):
        raise _Invalid(f"{where}: expected a list of service names from "
                       f"{', '.join(SERVICE_NAMES)}, got {value!r}")
    return tuple(value)


def _ports(data: dict[str, Any], where: str) -> Ports:
    names = {f.name for f in dataclasses.fields(Ports)}
    _known_keys(data, names, where)
    defaults = Ports()
    chosen = {name: _typed(data, name, int, where, getattr(defaults, name)) for name in names}
    for name, port in chosen.items():
        if not 1 <= port <= 65535:
            raise _Invalid(f"{where}.{name}: expected a port from 1 to 65535, got {port!r}")
    return Ports(**chosen)


def _remote(data: dict[str, Any], where: str) -> RemoteEndpoints:
    _known_keys(data, {f.name for f in dataclasses.fields(RemoteEndpoints)}, where)
    if "db_url" not in data:
        raise _Invalid(f"{where}.db_url: missing, a postgresql:// URL is required")
    return RemoteEndpoints(
        db_url=_typed(data, "db_url", str, where, ""),
        read_only_db_url=_typed(data, "read_only_db_url", str, where, None),
        rest_url=_typed(data, "rest_url", str, where, None),
        search_url=_typed(data, "search_url", str, where, None),
        search_api_key=_typed(data, "search_api_key", str, where, None),
    )


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _typed(data: dict[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    if key not in data:
        return default
    value = data[key]
    # bool is an int in Python; a port of `true` is still a mistake.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Invalid(f"{where}.{key}: expected {_TYPE_NAMES[kind]}, got {value!r}")
    return value


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"{where}: expected a table, got {value!r}")
    return value


def _known_keys(data: dict[str, Any], known: set[str], where: str) -> None:
    for key in data:
        if key not in known:
            raise _Invalid(f"{where + '.' if where else ''}{key}: unknown key")
