"""Running SQL for the Query screen and `crestfall-tui query`: rows as they come.

A statement that can (a query) runs behind a server-side cursor, so the first rows arrive as
soon as Postgres sends them and memory stays flat whatever the result's size; others run
plainly and report their command tag. Errors keep Postgres's message, detail, hint and the
position of the error in the statement.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crestfall_tui.clients.postgres import PostgresClient, load_as_text
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.run_as import RunAs, enter_role, role_scope
from crestfall_tui.services.sql_text import Statement, split_statements

if TYPE_CHECKING:
    import psycopg

FETCH_SIZE = 500
FIRST_FETCH = 100
"""The first batch is a screenful, so it shows as soon as it can; later ones are larger."""


@dataclass(frozen=True)
class Column:
    """A result column: its name and the name of its Postgres type."""

    name: str
    type_name: str


@dataclass(frozen=True)
class ResultStarted:
    """A statement returns rows; these are its columns."""

    statement: Statement
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class RowBatch:
    """The next rows of the current result."""

    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class StatementDone:
    """A statement finished: its command tag, the rows it returned or touched, its time."""

    statement: Statement
    status: str
    rowcount: int
    elapsed_s: float


QueryEvent = ResultStarted | RowBatch | StatementDone


class QueryError(CrestfallError):
    """Postgres refused a statement; position is 0-based within the statement, if known."""

    def __init__(self, statement: Statement, message: str, *, detail: str | None = None,
                 hint: str | None = None, sqlstate: str | None = None,
                 position: int | None = None) -> None:
        super().__init__(message, title="SQL error")
        self.statement = statement
        self.detail = detail
        self.hint = hint
        self.sqlstate = sqlstate
        self.position = position

    @property
    def buffer_position(self) -> int | None:
        """Where the error is in the buffer the statement came from."""
        return None if self.position is None else self.statement.start + self.position


@dataclass
class QuerySession:
    """One connection for one editor: statements run in order, one at a time."""

    postgres: PostgresClient
    manual: bool = False
    """Manual transactions: statements join one transaction until commit or rollback."""
    run_as: RunAs | None = None
    """Run statements as this role or auth user (row-level security applies)."""
    text_values: bool = False
    """Load every value as Postgres's own text (t/f, JSON text, '{1,2}') instead of Python
    objects: faster, and what a text table or CSV shows."""
    notices: list[str] = field(default_factory=list)
    _conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
    _names: itertools.count[int] = field(default_factory=itertools.count)

    async def connection(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        """The session's connection, opened (again) when needed."""
        if self._conn is None or self._conn.closed:
            self._conn = await self.postgres.open()
            self._conn.add_notice_handler(
                lambda diag: self.notices.append(f"{diag.severity}: {diag.message_primary}"))
            await self._conn.set_autocommit(not self.manual)
            if self.text_values:
                load_as_text(self._conn.adapters)
        return self._conn

    @property
    def in_transaction(self) -> bool:
        """True while a manual transaction is open (statements ran since the last commit)."""
        conn = self._conn
        if conn is None or conn.closed:
            return False
        from psycopg.pq import TransactionStatus

        return conn.info.transaction_status != TransactionStatus.IDLE

    async def set_manual(self, manual: bool) -> None:
        """Switch between autocommit and manual transactions (not while one is open)."""
        if self.in_transaction:
            raise CrestfallError("a transaction is open: commit or roll it back first",
                                 title="Transaction")
        self.manual = manual
        conn = await self.connection()
        await conn.set_autocommit(not manual)

    async def commit(self) -> None:
        if self._conn is not None:
            await self._conn.commit()

    async def rollback(self) -> None:
        if self._conn is not None:
            await self._conn.rollback()

    async def warm_up(self) -> None:
        """Open the connection and load the SQL parser before the first run needs them."""
        await self.connection()
        split_statements("select 1")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()

    async def cancel(self) -> None:
        """Ask the server to cancel the running statement; the connection stays usable."""
        if self._conn is not None and not self._conn.closed:
            await self._conn.cancel_safe()

    async def run_all(self, buffer: str,
                      fetch_size: int = FETCH_SIZE) -> AsyncIterator[QueryEvent]:
        """Every statement of the buffer in order, stopping at the first error."""
        for statement in split_statements(buffer):
            async for event in self.run(statement, fetch_size):
                yield event

    async def run(self, statement: Statement,
                  fetch_size: int = FETCH_SIZE) -> AsyncIterator[QueryEvent]:
        """Run one statement, yielding its columns, its rows in batches, and its end.

        Rows of a query are fetched only as the caller asks for the next batch.
        """
        import psycopg

        conn = await self.connection()
        started = time.monotonic()
        offset = 0
        try:
            await self._leave_stray_transaction(conn)
            if statement.streams:
                name = f"crestfall_query_{next(self._names)}"
                offset = self._declare_prefix_length(conn, name)
                async with conn.transaction():
                    if self.run_as is not None:
                        await enter_role(conn, self.run_as)
                    cursor = conn.cursor(name=name)
                    await cursor.execute(statement.text.encode())
                    yield ResultStarted(statement, self._columns(conn, cursor.description))
                    total = 0
                    size = min(FIRST_FETCH, fetch_size)
                    while rows := await cursor.fetchmany(size):
                        size = fetch_size
                        total += len(rows)
                        yield RowBatch(rows)
                    await cursor.close()
                yield StatementDone(statement, f"SELECT {total}", total,
                                    time.monotonic() - started)
                return
            async with role_scope(conn, self.run_as):
                plain = conn.cursor()
                await plain.execute(statement.text.encode())
                total = plain.rowcount
                if plain.description is not None:
                    yield ResultStarted(statement, self._columns(conn, plain.description))
                    total = 0
                    while rows := await plain.fetchmany(fetch_size):
                        total += len(rows)
                        yield RowBatch(rows)
            yield StatementDone(statement, plain.statusmessage or "", max(total, 0),
                                time.monotonic() - started)
        except psycopg.Error as error:
            raise self._error(statement, error, offset) from None

    async def _leave_stray_transaction(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """In autocommit mode nothing may still be open from before (a cancel that reached
        the server as a failed statement was being rolled back, say): roll it back."""
        from psycopg.pq import TransactionStatus

        if not self.manual and conn.info.transaction_status in (
                TransactionStatus.INTRANS, TransactionStatus.INERROR):
            await conn.rollback()

    async def copy_csv(self, statement: Statement) -> AsyncIterator[bytes]:
        """A query's whole result as CSV with a header, streamed by COPY: NULL stays an
        unquoted empty field and '' a quoted one, as Postgres writes them."""
        import psycopg
        from psycopg import sql

        conn = await self.connection()
        prefix = "COPY ("
        command = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(
            sql.SQL(statement.text))  # the user's own SQL, run as it is
        try:
            async with role_scope(conn, self.run_as), conn.cursor() as cursor, \
                    cursor.copy(command) as copy:
                async for chunk in copy:
                    yield bytes(chunk)
        except psycopg.Error as error:
            raise self._error(statement, error, len(prefix)) from None

    async def copy_json_lines(self, statement: Statement) -> AsyncIterator[str]:
        """A query's rows as JSON objects (row_to_json), one string a row, streamed by COPY;
        psycopg's COPY parser undoes COPY's own escaping."""
        import psycopg

        conn = await self.connection()
        prefix = "COPY (SELECT row_to_json(q)::text FROM ("
        command = prefix + statement.text + ") q) TO STDOUT"
        try:
            async with role_scope(conn, self.run_as), conn.cursor() as cursor, \
                    cursor.copy(command.encode()) as copy:
                copy.set_types(["text"])
                async for (line,) in copy.rows():
                    yield line
        except psycopg.Error as error:
            raise self._error(statement, error, len(prefix)) from None

    @staticmethod
    def _declare_prefix_length(conn: psycopg.AsyncConnection[Any], name: str) -> int:
        """Length of what psycopg puts before a server-side cursor's query (DECLARE ... FOR),
        so error positions can be given within the statement itself."""
        from psycopg import sql

        prefix = sql.SQL(" ").join(
            [sql.SQL("DECLARE"), sql.Identifier(name), sql.SQL("CURSOR"), sql.SQL("FOR ")])
        return len(prefix.as_string(conn))

    @staticmethod
    def _columns(conn: psycopg.AsyncConnection[Any], description: Any) -> tuple[Column, ...]:
        types = conn.adapters.types
        found = []
        for column in description or ():
            info = types.get(column.type_code)
            found.append(Column(column.name, info.name if info else f"oid {column.type_code}"))
        return tuple(found)

    @staticmethod
    def error_for(statement: Statement, error: psycopg.Error, prefix: int = 0) -> QueryError:
        """A driver error as the user sees it; `prefix` is what was sent before the
        statement, so that positions fall within the statement."""
        return QuerySession._error(statement, error, prefix)

    @staticmethod
    def _error(statement: Statement, error: psycopg.Error, offset: int) -> QueryError:
        diag = error.diag
        position = None
        if diag.statement_position:
            position = max(0, int(diag.statement_position) - 1 - offset)
        return QueryError(statement, diag.message_primary or str(error).strip(),
                          detail=diag.message_detail, hint=diag.message_hint,
                          sqlstate=diag.sqlstate, position=position)
