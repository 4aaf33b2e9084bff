"""Health probes: one quick, blocking question to each service.

Blocking on purpose: runtimes call them from the CLI and from the studio's thread workers.
HTTP probes use the standard library's http.client: a probe is one GET, and the studio's
first frame should not wait for an HTTP client library to load.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

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


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    server: str


def _get(base_url: str, path: str, headers: dict[str, str] | None = None) -> _Reply:
    """One GET; OSError or http.client.HTTPException when the service does not answer."""
    parts = urlsplit(base_url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname or "localhost", parts.port, timeout=PROBE_TIMEOUT)
    try:
        conn.request("GET", parts.path.rstrip("/") + path, headers=headers or {})
        response = conn.getresponse()
        return _Reply(response.status, response.read(), response.getheader("server") or "")
    finally:
        conn.close()


def probe_postgres(conninfo: str) -> Probe:
    """Connect, then ask for the server's version and start time.

    Through psycopg's libpq wrapper (`psycopg.pq`) alone: a probe needs no type adaptation,
    and the wrapper loads in a quarter of the time of the whole driver, which matters for
    the probe that races the studio's first frame.
    """
    from psycopg import pq

    conn = pq.PGconn.connect(_with_connect_timeout(conninfo).encode())
    try:
        if conn.status != pq.ConnStatus.OK:
            message = conn.get_error_message()
            # "FATAL:" is the server's own refusal (bad password, starting up): it answered.
            refused_by_server = "FATAL:" in message
            detail = message.split("FATAL:", 1)[1] if refused_by_server else message
            return Probe(ok=False, answered=refused_by_server, detail=_first_line(detail))
        result = conn.exec_(b"select current_setting('server_version'), "
                            b"extract(epoch from pg_postmaster_start_time())")
        if result.status != pq.ExecStatus.TUPLES_OK:
            return Probe(ok=False, answered=True, detail=_first_line(conn.get_error_message()))
        version = (result.get_value(0, 0) or b"").decode().split(" ")[0]
        started_at = datetime.fromtimestamp(float(result.get_value(0, 1) or 0), tz=UTC)
    finally:
        conn.finish()
    return Probe(ok=True, answered=True, detail="accepting connections", version=version,
                 started_at=started_at)


def _with_connect_timeout(conninfo: str) -> str:
    """The connection string (key=value or URI form) with a connect timeout added."""
    if "://" in conninfo:
        return conninfo + ("&" if "?" in conninfo else "?") + f"connect_timeout={PROBE_TIMEOUT}"
    return f"{conninfo} connect_timeout={PROBE_TIMEOUT}"


def probe_typesense(base_url: str, api_key: str) -> Probe:
    """GET /health (no key needed); the version comes from /debug, which needs the key."""
    try:
        health = _get(base_url, "/health")
        ok = health.status == 200 and json.loads(health.body).get("ok") is True
        if not ok:
            return Probe(ok=False, answered=True,
                         detail=f"/health: {health.body.decode(errors='replace').strip()}")
        debug = _get(base_url, "/debug", {"X-TYPESENSE-API-KEY": api_key})
        version = json.loads(debug.body).get("version") if debug.status == 200 else None
    except (OSError, http.client.HTTPException, ValueError) as error:
        return Probe(ok=False, answered=False, detail=_first_line(str(error)) or "no answer")
    return Probe(ok=True, answered=True, detail='/health: {"ok":true}', version=version)


def probe_postgrest(base_url: str) -> Probe:
    """GET / returns the OpenAPI document when PostgREST is connected and ready."""
    try:
        root = _get(base_url, "/")
    except (OSError, http.client.HTTPException) as error:
        return Probe(ok=False, answered=False, detail=_first_line(str(error)) or "no answer")
    version = root.server.split("/", 1)[1] if root.server.startswith("postgrest/") else None
    if root.status == 200:
        return Probe(ok=True, answered=True, detail="GET / 200", version=version)
    body = root.body[:120].decode(errors="replace")
    return Probe(ok=False, answered=True, detail=f"GET / {root.status}: {body}",
                 version=version)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
