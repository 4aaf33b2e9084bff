"""Postgres, reached with psycopg 3 (async; synchronous for the script runner). No Textual
here."""

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
READ_ONLY_LOGIN = "crestfall_readonly"
"""The login of read-only sessions (init script 10_roles.sql): it inherits no privilege."""
READER_ROLE = "crestfall_reader"
"""What a read-only session reads as: a member of pg_read_all_data, nothing more."""
_LOGIN_CHECK = ("select rolsuper, (select pg_has_role(oid, 'member') from pg_roles "
                "where rolname = %s) from pg_roles where rolname = session_user")


class PostgresClient:
    """Opens connections to the stack's database.

    A read-only client logs in as a role that cannot write (`crestfall_readonly`, or a
    remote stack's own read-only login) and reads as `crestfall_reader`; a superuser login is
    refused. Statements that run the user's SQL do so inside `role_scope`, which keeps each
    transaction read-only for good, so no statement can switch read-only off.
    """

    def __init__(self, url: Callable[[], str], *, read_only: bool = False,
                 database: str | None = None) -> None:
        # A callable, so the URL (and its secret) is read when needed, in a worker.
        self._url = url
        self.read_only = read_only
        self.database = database
        """The database sessions open; None for the one the URL names."""
        self.reader_role: str | None = None
        """The role a read-only session reads as, when its login may become it."""

    def on_database(self, database: str) -> PostgresClient:
        """A client for another database of the same server, with the same login."""
        return PostgresClient(self._url, read_only=self.read_only, database=database)

    async def open(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        """A fresh autocommit connection the caller closes; a refused one becomes a
        CrestfallError."""
        import psycopg  # lazy: off the first frame

        url = self._url()
        try:
            conn = await psycopg.AsyncConnection.connect(self._conninfo(url),
                                                         **self._options())
        except psycopg.OperationalError as error:
            raise connection_error(url, error, self.database) from None
        if self.read_only:
            try:
                cursor = await conn.execute(_LOGIN_CHECK, (READER_ROLE,))
                if become := self._reader(conn, await cursor.fetchone()):
                    await conn.execute(become)
            except BaseException:
                await conn.close()
                raise
        return conn

    def open_sync(self) -> psycopg.Connection[tuple[object, ...]]:
        """`open`, for a synchronous connection (the script runner's)."""
        import psycopg

        url = self._url()
        try:
            conn = psycopg.Connection.connect(self._conninfo(url), **self._options())
        except psycopg.OperationalError as error:
            raise connection_error(url, error, self.database) from None
        if self.read_only:
            try:
                if become := self._reader(conn, conn.execute(_LOGIN_CHECK,
                                                             (READER_ROLE,)).fetchone()):
                    conn.execute(become)
            except BaseException:
                conn.close()
                raise
        return conn

    def _conninfo(self, url: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(url, dbname=self.database) if self.database else url

    def _options(self) -> dict[str, Any]:
        return {"connect_timeout": CONNECT_TIMEOUT, "autocommit": True,
                "options": READ_ONLY_OPTIONS if self.read_only else ""}

    def _reader(self, conn: Any, login: tuple[Any, ...] | None) -> sql.Composed | None:
        """Refuse a login that could write; the statement that makes the session read as
        the reader role, where its login may become it."""
        from psycopg import sql

        if login is None or login[0]:
            raise CrestfallError(
                f"read-only sessions must log in as a role that cannot write, but "
                f"{conn.info.user!r} is a superuser", title="Read-only")
        self.reader_role = READER_ROLE if login[1] else None
        if self.reader_role is None:
            return None
        return sql.SQL("set role {}").format(sql.Identifier(self.reader_role))

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[psycopg.AsyncConnection[tuple[object, ...]]]:
        """A fresh autocommit connection for one piece of work."""
        async with await self.open() as conn:
            yield conn


def connection_error(url: str, error: Exception, database: str | None = None) -> CrestfallError:
    """Why a connection failed, in words that lead to the fix."""
    where = urlsplit(url)
    said = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if database and f'database "{database}" does not exist' in said:
        return CrestfallError(f"there is no database {database!r} on {where.hostname}:"
                              f"{where.port}", title="Postgres")
    if "password authentication failed" in said:
        return CrestfallError(
            f"Postgres on {where.hostname}:{where.port} refused the password of "
            f"{where.username!r}: the stack's secrets do not match its database ({said})",
            title="Postgres")
    return CrestfallError(
        f"Postgres refused the connection on {where.hostname}:{where.port}: is the stack up? "
        f"(F1 in the studio, `crestfall-tui stack up` in a shell) ({said})", title="Postgres")


def server_closed(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether the server has closed this idle connection (a restart, a terminated backend):
    reads what waits on the socket without sending anything, so a session can open a new
    connection before its next statement instead of failing on the old one. Only for a
    connection no statement is running on."""
    import psycopg
    from psycopg.pq import ConnStatus

    if conn.closed:
        return False
    try:
        # A server going away sends its FATAL message, then closes: the first read takes
        # the message, the second sees the end of the stream.
        for _ in range(2):
            conn.pgconn.consume_input()
    except psycopg.OperationalError:
        return True
    return conn.pgconn.status == ConnStatus.BAD


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
