"""What the calls of a section's service share: one connection kept open between calls,
what Postgres refuses as one line, a WHERE made of the service's own fragments. No Textual
here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from crestfall_tui.clients.postgres import PostgresClient, server_closed
from crestfall_tui.errors import CrestfallError


class Calls:
    """A service's connections. The one used last is kept open for the next call (a section
    reads often: a page, then the detail of the row under the cursor), and replaced when the
    server has closed it meanwhile; calls that overlap each get one of their own.

    Written here rather than with psycopg_pool: its pool connects in the background and
    reports a refused connection only as a PoolTimeout once its timeout is over, where a
    section must say at once, and why (the stack is down, the password is wrong)."""

    SETUP = b"set jit = off"
    """Run on each new connection. A section's reads are short and indexed; JIT costs more
    than it saves on them (an exact count of a million rows compiles first), and a session
    that once compiled makes every parallel worker of its later reads load LLVM: the Cron
    jobs list took 45 ms instead of 28 on such a session."""

    def __init__(self, postgres: PostgresClient,
                 error: Callable[[str], CrestfallError]) -> None:
        self.postgres = postgres
        self.error = error
        self._idle: Any = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A connection for one call. A failure Postgres reports (a read-only login's write
        refused, a constraint, a missing schema) becomes `error(its message)`; the cases a
        caller words itself are caught inside, before this."""
        import psycopg
        from psycopg.pq import TransactionStatus

        conn, self._idle = self._idle, None
        if conn is not None and (conn.closed or server_closed(conn)):
            await conn.close()
            conn = None
        if conn is None:
            conn = await self.postgres.open()
            await conn.execute(self.SETUP)
        try:
            yield conn
        except psycopg.Error as failure:
            primary = getattr(failure.diag, "message_primary", None)
            raise self.error(primary or str(failure).strip().splitlines()[0]) from None
        finally:
            if self._idle is None and not conn.closed and \
                    conn.info.transaction_status == TransactionStatus.IDLE:
                self._idle = conn
            else:
                await conn.close()

    async def close(self) -> None:
        conn, self._idle = self._idle, None
        if conn is not None:
            await conn.close()


def all_of(conditions: Sequence[str]) -> Any:
    """The conditions (a service's own SQL fragments, never a value) joined with AND."""
    from psycopg import sql

    return sql.SQL(" and ").join(map(sql.SQL, conditions))
