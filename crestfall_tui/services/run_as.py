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
async def role_scope(conn: Any, run_as: RunAs | None) -> AsyncIterator[None]:
    """With a role to run as: a transaction holding it (SET LOCAL lasts as long); without
    one, nothing."""
    if run_as is None:
        yield
        return
    async with conn.transaction():
        await enter_role(conn, run_as)
        yield
