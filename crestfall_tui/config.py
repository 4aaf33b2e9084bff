"""Stacks and settings, read from one TOML file.

The file is found at `--config FILE`, else `$CRESTFALL_CONFIG`, else the platform config dir
(`crestfall/config.toml`). A missing file means defaults; the `local` stack always exists.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crestfall_tui.errors import ConfigError

CONFIG_ENV = "CRESTFALL_CONFIG"
RuntimeName = Literal["auto", "native", "docker", "remote"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Ports(_Strict):
    """TCP ports the stack's services listen on, on the stack's `bind` address."""

    db: int = Field(default=5432, ge=1, le=65535)
    """PostgreSQL."""
    rest: int = Field(default=5433, ge=1, le=65535)
    """PostgREST."""
    search: int = Field(default=8018, ge=1, le=65535)
    """Typesense's API (its peering port is picked free at start)."""


class RemoteEndpoints(_Strict):
    """How to reach a stack that crestfall-tui does not run (runtime = "remote")."""

    db_url: str
    """A `postgresql://` URL, password included."""
    rest_url: str | None = None
    """PostgREST's base URL, if the stack has one."""
    search_url: str | None = None
    """Typesense's base URL, if the stack has one."""
    search_api_key: str | None = None
    """Typesense's API key."""


class StackConfig(_Strict):
    """One named stack: where it runs and where its data lives."""

    name: str = Field(default="local", exclude=True)
    runtime: RuntimeName = "auto"
    """auto = docker when a Docker engine answers, native otherwise."""
    data_dir: str | None = None
    """Data, logs, pid files and secrets; default: platform data dir / stacks/<name>."""
    bind: str = "127.0.0.1"
    """The address every service listens on; 0.0.0.0 is an explicit choice."""
    ports: Ports = Ports()
    read_only: bool = False
    """Open every database session read-only (default_transaction_read_only)."""
    remote: RemoteEndpoints | None = None

    @field_validator("bind")
    @classmethod
    def _bind_is_an_address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"an IP address such as 127.0.0.1, got {value!r}") from None
        return value

    @property
    def data_path(self) -> Path:
        """The stack's data dir, resolved."""
        if self.data_dir:
            return Path(self.data_dir).expanduser().resolve()
        return default_data_root() / "stacks" / self.name


class Config(_Strict):
    """The whole config file."""

    stacks: dict[str, StackConfig] = {}

    def stack(self, name: str) -> StackConfig:
        """The stack called `name`, or a ConfigError listing the ones that exist."""
        stacks = self.all_stacks()
        if name not in stacks:
            known = ", ".join(sorted(stacks))
            raise ConfigError(f"unknown stack {name!r}: the config defines {known}")
        return stacks[name]

    def all_stacks(self) -> dict[str, StackConfig]:
        """Every stack, `local` included even when the file does not name it."""
        stacks = {"local": StackConfig(name="local")}
        for name, stack in self.stacks.items():
            stacks[name] = stack.model_copy(update={"name": name})
        return stacks


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


def load_config(path: Path) -> Config:
    """Read and check the config file; a missing file means defaults."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
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
        config = Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{path}: {_describe(error)}") from None
    for name, stack in config.stacks.items():
        if stack.runtime == "remote" and stack.remote is None:
            raise ConfigError(
                f"{path}: stacks.{name}.remote: expected a [stacks.{name}.remote] table "
                "with db_url for a remote stack"
            )
    return config


def _describe(error: ValidationError) -> str:
    """One line naming the first bad key and what was expected there."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if first["type"] == "missing":
        return f"{key}: missing, a value is required"
    message = str(first["msg"]).removeprefix("Value error, ")
    message = message[0].lower() + message[1:] if message else message
    given: Any = first.get("input")
    expected = message.removeprefix("input should be ")
    return f"{key}: expected {expected}, got {given!r}"
