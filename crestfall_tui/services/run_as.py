"""Running SQL as an API role or an auth user, as PostgREST does for a request: inside the
transaction, `SET LOCAL ROLE` and the JWT claims in `request.jwt.claims`, so row-level
security sees exactly what that role or user would."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from crestfall_tui.errors import CrestfallError

API_ROLES = ("anon", "authenticated", "service_role")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class RunAs:
    """A database role, and for `authenticated` the auth user the claims name."""

    role: str
    user_id: str | None = None
    email: str | None = None

    @property
    def label(self) -> str:
        return f"{self.email or self.user_id} (authenticated)" if self.user_id else self.role

    def claims(self) -> str:
        """The claims GoTrue would put in this role's or user's access token."""
        now = int(time.time())
        claims: dict[str, Any] = {"role": self.role, "iat": now, "exp": now + 3600}
        if self.user_id:
            claims |= {"sub": self.user_id, "aud": "authenticated", "email": self.email or ""}
        return json.dumps(claims)


async def resolve_run_as(conn: Any, answer: str) -> RunAs | None:
    """What the user typed: empty for the superuser, an API role, or an auth user's id or
    email (which must exist)."""
    answer = answer.strip()
    if not answer:
        return None
    if answer in API_ROLES:
        return RunAs(answer)
    column = "id::text" if _UUID.match(answer) else "lower(email)"
    from psycopg import sql

    query = sql.SQL("select id::text, email from auth.users where {} = lower(%s)").format(
        sql.SQL(column))  # one of two fixed expressions
    cursor = await conn.execute(query, (answer,))
    row = await cursor.fetchone()
    if row is None:
        raise CrestfallError(f"no auth user with id or email {answer!r}; run as "
                             f"{', '.join(API_ROLES)}, or an existing user", title="Run as")
    return RunAs("authenticated", user_id=row[0], email=row[1])


async def enter_role(conn: Any, run_as: RunAs) -> None:
    """Inside the current transaction: the claims, then the role (as PostgREST orders it)."""
    from psycopg import sql

    await conn.execute("select set_config('request.jwt.claims', %s, true)",
                       (run_as.claims(),))
    await conn.execute(sql.SQL("set local role {}").format(sql.Identifier(run_as.role)))


@asynccontextmanager
async def role_scope(conn: Any, run_as: RunAs | None, *, read_only: bool = False,
                     reader: str | None = None) -> AsyncIterator[None]:
    """Where a statement runs as a role, or read-only.

    With a role to run as: inside a transaction (SET LOCAL lasts as long): the user's own
    when one is open, else one of this scope's. Read-only: that transaction is made READ ONLY
    and takes its snapshot before the statement runs, after which Postgres refuses to make it
    read-write again ("must be set before any query"), so no statement inside can undo it;
    it reads as `reader` (or the role run as). Without either: the statement runs as it is.
    """
    if run_as is None and not read_only:
        yield
        return
    from psycopg import sql
    from psycopg.pq import TransactionStatus

    status = conn.info.transaction_status
    if status == TransactionStatus.INERROR:
        yield  # an aborted transaction runs nothing but its end
        return
    own = conn.autocommit and status == TransactionStatus.IDLE
    if own:
        await conn.execute("begin")
    try:
        if read_only:
            await conn.execute("set transaction read only")
        if run_as is not None:
            await enter_role(conn, run_as)
        elif reader is not None:
            await conn.execute(sql.SQL("set local role {}").format(sql.Identifier(reader)))
        if read_only:
            await conn.execute("select")  # the snapshot: read-only is final from here on
        yield
    except BaseException:
        if own and not conn.closed and \
                conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.execute("rollback")
        raise
    if own:
        ended = conn.info.transaction_status
        if ended == TransactionStatus.INTRANS:
            await conn.execute("commit")
        elif ended == TransactionStatus.INERROR:
            await conn.execute("rollback")
