"""Postgres, reached with psycopg 3 (async). No Textual here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crestfall_tui.errors import CrestfallError

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

CONNECT_TIMEOUT = 3


READ_ONLY_OPTIONS = "-c default_transaction_read_only=on"


class PostgresClient:
    """Opens connections to the stack's database as its superuser.

    With `read_only`, every session is `default_transaction_read_only`, so the server itself
    refuses writes, whatever the studio sends.
    """

    def __init__(self, url: Callable[[], str], *, read_only: bool = False) -> None:
        # A callable, so the URL (and its secret) is read when needed, in a worker.
        self._url = url
        self.read_only = read_only

    async def open(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        """A fresh autocommit connection the caller closes; a refused one becomes a
        CrestfallError."""
        import psycopg  # lazy: off the first frame

        url = self._url()
        try:
            return await psycopg.AsyncConnection.connect(
                url, connect_timeout=CONNECT_TIMEOUT, autocommit=True,
                options=READ_ONLY_OPTIONS if self.read_only else "")
        except psycopg.OperationalError as error:
            where = urlsplit(url)
            raise CrestfallError(
                f"Postgres refused the connection on {where.hostname}:{where.port}: "
                f"is the stack up? press F1 ({str(error).strip().splitlines()[0]})",
                title="Postgres") from None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[psycopg.AsyncConnection[tuple[object, ...]]]:
        """A fresh autocommit connection for one piece of work."""
        async with await self.open() as conn:
            yield conn


def load_as_text(adapters: Any) -> None:
    """Make a connection or cursor load every value as Postgres's own text (t/f, JSON text,
    '{1,2}', '\\x..'): faster than Python objects, and what a grid or a CSV shows. Types
    psycopg does not know already load as text."""
    from psycopg.types.string import TextLoader

    for info in adapters.types:
        for oid in (info.oid, info.array_oid):
            if oid:
                adapters.register_loader(oid, TextLoader)


def with_params(query: sql.Composable, context: Any) -> bytes:
    """A composed statement ready to run with parameters. psycopg reads `%` as the start of
    a placeholder anywhere in the text of such a statement, quoted names and literals
    included (psycopg/psycopg2#825), so a column named "50%" would break it: their `%`
    are doubled here. The statement's own SQL parts are left as written."""
    from psycopg import sql

    if isinstance(query, sql.Composed):
        return b"".join(with_params(part, context) for part in query)
    if isinstance(query, sql.SQL | sql.Placeholder):
        return query.as_bytes(context)
    return query.as_bytes(context).replace(b"%", b"%%")
