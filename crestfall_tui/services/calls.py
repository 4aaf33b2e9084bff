"""A connection for one call of a section's service, with what Postgres refuses as one
line. No Textual here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError


@asynccontextmanager
async def connection(postgres: PostgresClient,
                     error: Callable[[str], CrestfallError]) -> AsyncIterator[Any]:
    """A fresh connection, closed after the call. A failure Postgres reports (a read-only
    login's write refused, a constraint, a missing schema) becomes `error(its message)`;
    the cases a caller words itself are caught inside, before this."""
    import psycopg

    try:
        async with await postgres.open() as conn:
            yield conn
    except psycopg.Error as failure:
        primary = getattr(failure.diag, "message_primary", None)
        raise error(primary or str(failure).strip().splitlines()[0]) from None
