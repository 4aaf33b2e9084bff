"""The remote runtime: probes a stack at its URLs, and never starts or stops it."""

from __future__ import annotations

import pytest

from crestfall_tui.config import RemoteEndpoints, StackConfig
from crestfall_tui.errors import CrestfallError
from crestfall_tui.stack.model import ServiceState
from crestfall_tui.stack.remote import RemoteRuntime
from tests.helpers import StackUnderTest


def remote_for(stack: StackUnderTest, **overrides: str) -> RemoteRuntime:
    search = stack.runtime.services["search"]
    endpoints = {"db_url": stack.runtime.db_url(),
                 "search_url": f"http://127.0.0.1:{search.port}",
                 "search_api_key": stack.runtime.secrets.search_api_key} | overrides
    config = StackConfig(name="staging", runtime="remote", remote=RemoteEndpoints(**endpoints))
    return RemoteRuntime(config)


def test_remote_status_probes_the_real_services(stack: StackUnderTest) -> None:
    """db and search answer healthy with their versions; a service with no URL is absent."""
    status = remote_for(stack).status()
    db, rest, search = (status.service(n) for n in ("db", "rest", "search"))
    assert db.state == ServiceState.HEALTHY and db.version and db.version.startswith("15")
    assert db.started_at is not None
    assert search.state == ServiceState.HEALTHY and search.version
    assert rest.state == ServiceState.NOT_INSTALLED
    assert stack.runtime.secrets.postgres_password not in db.masked_url()


def test_remote_wrong_password_is_unhealthy_not_down(stack: StackUnderTest) -> None:
    """A server that answers but refuses the credentials is unhealthy, with its reason."""
    url = stack.runtime.db_url().replace(stack.runtime.secrets.postgres_password, "wrong")
    db = remote_for(stack, db_url=url).status().service("db")
    assert db.state == ServiceState.UNHEALTHY
    assert "password authentication failed" in db.detail


def test_remote_unreachable_db_is_down() -> None:
    """Nothing listening at the URL: the db is down, and the refusal is the detail."""
    config = StackConfig(name="gone", runtime="remote", remote=RemoteEndpoints(
        db_url="postgresql://postgres:pw@127.0.0.1:1/postgres"))
    db = RemoteRuntime(config).status().service("db")
    assert db.state == ServiceState.DOWN
    assert "refused" in db.detail or "no response" in db.detail


def test_remote_stack_is_never_started_or_stopped(stack: StackUnderTest) -> None:
    """down and restart refuse with a clear message; nothing happens to the services."""
    remote = remote_for(stack)
    with pytest.raises(CrestfallError, match="is remote"):
        remote.down()
    with pytest.raises(CrestfallError, match="is remote"):
        remote.restart("db")
    assert stack.runtime.status().healthy
