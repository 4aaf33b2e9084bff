"""Health probes: one quick, blocking question to each service.

Blocking on purpose: runtimes call them from the CLI and from the studio's thread workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx
import psycopg

PROBE_TIMEOUT = 2


@dataclass(frozen=True)
class Probe:
    """What one probe found."""

    ok: bool
    """The service answered and said it is healthy."""
    answered: bool
    """The service answered at all (False: refused or timed out)."""
    detail: str
    version: str | None = None
    started_at: datetime | None = None


def probe_postgres(conninfo: str) -> Probe:
    """Connect, then ask for the server's version and start time."""
    try:
        with psycopg.connect(conninfo, connect_timeout=PROBE_TIMEOUT, autocommit=True) as conn:
            row = conn.execute(
                "select current_setting('server_version'), pg_postmaster_start_time()"
            ).fetchone()
    except psycopg.OperationalError as error:
        detail = _first_line(str(error))
        starting = "starting up" in detail or "shutting down" in detail
        return Probe(ok=False, answered=starting, detail=detail)
    assert row is not None
    version = str(row[0]).split(" ")[0]
    return Probe(ok=True, answered=True, detail="accepting connections", version=version,
                 started_at=row[1])


def probe_typesense(base_url: str, api_key: str) -> Probe:
    """GET /health (no key needed); the version comes from /debug, which needs the key."""
    try:
        with httpx.Client(base_url=base_url, timeout=PROBE_TIMEOUT) as http:
            health = http.get("/health")
            ok = health.status_code == 200 and health.json().get("ok") is True
            if not ok:
                return Probe(ok=False, answered=True, detail=f"/health: {health.text.strip()}")
            debug = http.get("/debug", headers={"X-TYPESENSE-API-KEY": api_key})
            version = debug.json().get("version") if debug.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as error:
        return Probe(ok=False, answered=False, detail=_first_line(str(error)) or "no answer")
    return Probe(ok=True, answered=True, detail='/health: {"ok":true}', version=version)


def probe_postgrest(base_url: str) -> Probe:
    """GET / returns the OpenAPI document when PostgREST is connected and ready."""
    try:
        with httpx.Client(base_url=base_url, timeout=PROBE_TIMEOUT) as http:
            root = http.get("/")
    except httpx.HTTPError as error:
        return Probe(ok=False, answered=False, detail=_first_line(str(error)) or "no answer")
    server = root.headers.get("server", "")
    version = server.split("/", 1)[1] if server.startswith("postgrest/") else None
    if root.status_code == 200:
        return Probe(ok=True, answered=True, detail="GET / 200", version=version)
    return Probe(ok=False, answered=True, detail=f"GET / {root.status_code}: {root.text[:120]}",
                 version=version)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
