"""Running SQL as an API role or an auth user, as PostgREST does for a request: inside the
transaction, `SET LOCAL ROLE` and the JWT claims in `request.jwt.claims`, so row-level
security sees exactly what that role or user would."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
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


def _entering(run_as: RunAs | None, *, read_only: bool,
              reader: str | None) -> list[tuple[Any, tuple[str, ...]]]:
    """What a scope runs inside its transaction before the statement: read-only first, then
    the claims and the role (as PostgREST orders them), then the snapshot, after which
    read-only is final."""
    from psycopg import sql

    steps: list[tuple[Any, tuple[str, ...]]] = []
    if read_only:
        steps.append(("set transaction read only", ()))
    if run_as is not None:
        steps += [("select set_config('request.jwt.claims', %s, true)", (run_as.claims(),)),
                  (sql.SQL("set local role {}").format(sql.Identifier(run_as.role)), ())]
    elif reader is not None:
        steps.append((sql.SQL("set local role {}").format(sql.Identifier(reader)), ()))
    if read_only:
        steps.append(("select", ()))  # the snapshot: read-only is final from here on
    return steps


def _scope_owned(conn: Any) -> bool | None:
    """Whether a scope begins (and ends) a transaction of its own; None inside an aborted
    one, which runs nothing but its end."""
    from psycopg.pq import TransactionStatus

    status = conn.info.transaction_status
    if status == TransactionStatus.INERROR:
        return None
    return bool(conn.autocommit and status == TransactionStatus.IDLE)


def _scope_end(conn: Any, failed: bool) -> str | None:
    """How a scope's own transaction ends: rolled back after a failure or an error inside,
    committed otherwise; None when there is nothing left to end."""
    from psycopg.pq import TransactionStatus

    if conn.closed:
        return None
    status = conn.info.transaction_status
    if status == TransactionStatus.IDLE:
        return None
    if failed or status == TransactionStatus.INERROR:
        return "rollback"
    return "commit" if status == TransactionStatus.INTRANS else None


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
    own = None if run_as is None and not read_only else _scope_owned(conn)
    if own is None:
        yield
        return
    try:
        if own:
            await conn.execute("begin")
        for statement, params in _entering(run_as, read_only=read_only, reader=reader):
            await conn.execute(statement, params)
        yield
    except BaseException:
        if own and (end := _scope_end(conn, True)):
            await conn.execute(end)
        raise
    if own and (end := _scope_end(conn, False)):
        await conn.execute(end)


@contextmanager
def role_scope_sync(conn: Any, run_as: RunAs | None, *, read_only: bool = False,
                    reader: str | None = None) -> Iterator[None]:
    """`role_scope` on a synchronous connection (the script runner's)."""
    own = None if run_as is None and not read_only else _scope_owned(conn)
    if own is None:
        yield
        return
    try:
        if own:
            conn.execute("begin")
        for statement, params in _entering(run_as, read_only=read_only, reader=reader):
            conn.execute(statement, params)
        yield
    except BaseException:
        if own and (end := _scope_end(conn, True)):
            conn.execute(end)
        raise
    if own and (end := _scope_end(conn, False)):
        conn.execute(end)
