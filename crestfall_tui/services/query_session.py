"""Running SQL for the Query screen and `crestfall-tui query`: rows as they come.

A statement that can (a query) runs behind a server-side cursor, so the first rows arrive as
soon as Postgres sends them and memory stays flat whatever the result's size; others run
plainly and report their command tag. Errors keep Postgres's message, detail, hint and the
position of the error in the statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crestfall_tui.clients.copy_out import CopyCount, copy_out
from crestfall_tui.clients.postgres import PostgresClient, load_as_text, server_closed
from crestfall_tui.errors import CrestfallError
from crestfall_tui.queries import query
from crestfall_tui.services.action_log import ActionLog, TransactionWrites, Write
from crestfall_tui.services.run_as import RunAs, role_scope
from crestfall_tui.services.sql_text import Statement, split_statements

if TYPE_CHECKING:
    import psycopg

FETCH_SIZE = 500
FIRST_FETCH = 100
"""The first batch is a screenful, so it shows as soon as it can; later ones are larger."""


@dataclass(frozen=True)
class Column:
    """A result column: its name, the name of its Postgres type and that type's oid."""

    name: str
    type_name: str
    oid: int = 0


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
    scrollable: bool = False
    """Results are read through a SCROLL cursor, so `fetch_window` can reach any row and
    `result_size` count them (the studio's grid); a script runner reads forward only."""
    idle_release_s: float = 15.0
    """A half-read result that holds a transaction of its own is released after this long
    idle (the screen does it), keeping the rows shown; 0 keeps it until read to the end."""
    log: ActionLog | None = None
    """Where the writes it commits are recorded (the studio's action log)."""
    notices: list[str] = field(default_factory=list)
    lost_transaction: bool = False
    """The connection was lost with the user's transaction open; said at the next run."""
    _result_transaction: bool = False
    _conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
    _names: itertools.count[int] = field(default_factory=itertools.count)
    _type_names: dict[tuple[int, int, int], str] = field(default_factory=dict)
    """Type names by (type oid, table oid, column number) of a result's column."""
    _opening: asyncio.Lock = field(default_factory=asyncio.Lock)
    _writes: TransactionWrites = field(init=False)
    _result: psycopg.AsyncServerCursor[tuple[Any, ...]] | None = None
    """The cursor of the result being read, while it is open."""

    def __post_init__(self) -> None:
        self._writes = TransactionWrites(self.log)

    async def connection(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        """The session's connection, opened (again) when needed. Opened once however many
        ask at the same time (the screen warms it up while the first run may already ask):
        a second connection would silently replace one with a transaction on it."""
        async with self._opening:
            if self._conn is None or self._conn.closed:
                conn = await self.postgres.open()
                # The user's statements are run once each, as psql runs them: never prepared.
                conn.prepare_threshold = None
                conn.add_notice_handler(
                    lambda diag: self.notices.append(f"{diag.severity}: "
                                                     f"{diag.message_primary}"))
                await conn.set_autocommit(not self.manual)
                if self.text_values:
                    load_as_text(conn.adapters)
                self._conn = conn
            return self._conn

    @property
    def transaction_state(self) -> str:
        """The user's own transaction: "none", "open" or "aborted". The transaction that a
        streaming result holds by itself is not the user's and does not count."""
        conn = self._conn
        if conn is None or conn.closed or self._result_transaction:
            return "none"
        from psycopg.pq import TransactionStatus

        status = conn.info.transaction_status
        if status == TransactionStatus.INERROR:
            return "aborted"
        return "open" if status == TransactionStatus.INTRANS else "none"

    @property
    def in_transaction(self) -> bool:
        """True while the user's own transaction is open (BEGIN, or manual mode)."""
        return self.transaction_state != "none"

    @property
    def holds_result(self) -> bool:
        """True while a streaming result holds a transaction of its own open (its locks and
        snapshot), until every row is read or the result is released."""
        return self._result_transaction

    async def set_manual(self, manual: bool) -> None:
        """Switch between autocommit and manual transactions (not while one is open)."""
        if self.in_transaction:
            raise CrestfallError("a transaction is open: commit or roll it back first",
                                 title="Transaction")
        self.manual = manual
        conn = await self.connection()
        await conn.set_autocommit(not manual)

    async def commit(self) -> None:
        """Commit the user's transaction; a lost connection says nothing was committed."""
        await self._end_transaction("commit")

    async def rollback(self) -> None:
        await self._end_transaction("rollback")

    async def _end_transaction(self, how: str) -> None:
        import psycopg

        conn = self._conn
        if conn is None or conn.closed:
            return
        try:
            done = await conn.execute(how)
        except psycopg.OperationalError:
            await self._drop_lost_connection()
            raise self._lost_error(True) from None
        # Committing an aborted transaction rolls it back, and the server says so.
        self._writes.ended(committed=done.statusmessage == "COMMIT")

    def connection_lost(self) -> bool:
        """Whether the server closed the idle connection (a restart, a terminated backend);
        reads what is waiting on the socket without sending anything. Call it only while no
        statement runs. A transaction the user had open is then marked lost."""
        conn = self._conn
        if conn is None or conn.closed:
            return False
        lost = server_closed(conn)
        if lost:
            self.lost_transaction = self.lost_transaction or self.in_transaction
            self._conn = None
            self._writes.ended(committed=False)
        return lost

    async def _drop_lost_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._result_transaction = False
        self._result = None
        self._writes.ended(committed=False)
        if conn is not None:
            await conn.close()

    def _lost_error(self, in_transaction: bool) -> CrestfallError:
        if in_transaction:
            return CrestfallError(
                "the connection to Postgres was lost (a restart, or the backend was "
                "terminated): the server rolled back the open transaction, and nothing of it "
                "was committed. The next statement connects again.", title="Connection lost")
        return CrestfallError("the connection to Postgres was lost; the next statement "
                              "connects again", title="Connection lost")

    async def warm_up(self) -> None:
        """Open the connection and load the SQL parser before the first run needs them."""
        await self.connection()
        split_statements("select 1")

    async def close(self) -> None:
        """Close the connection; a transaction still open is rolled back by the server."""
        if self._conn is not None:
            await self._conn.close()
        self._writes.ended(committed=False)

    async def cancel(self) -> None:
        """Ask the server to cancel the running statement; the connection stays usable."""
        if self._conn is not None and not self._conn.closed:
            await self._conn.cancel_safe()

    async def run_all(self, buffer: str,
                      fetch_size: int = FETCH_SIZE) -> AsyncGenerator[QueryEvent, None]:
        """Every statement of the buffer in order, stopping at the first error."""
        for statement in split_statements(buffer):
            async with contextlib.aclosing(self.run(statement, fetch_size)) as events:
                async for event in events:
                    yield event

    def scope(self, conn: psycopg.AsyncConnection[Any]) -> Any:
        """Where the user's SQL runs: as the role chosen, read-only for good on a read-only
        stack (see `role_scope`)."""
        return role_scope(conn, self.run_as, read_only=self.postgres.read_only,
                          reader=self.postgres.reader_role)

    async def _ready_connection(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        """The connection for the next statement: one the server closed meanwhile is
        replaced, after saying once that the transaction open on it was lost."""
        if self.connection_lost() or self.lost_transaction:
            lost, self.lost_transaction = self.lost_transaction, False
            if lost:
                raise self._lost_error(True)
        return await self.connection()

    async def run(self, statement: Statement,
                  fetch_size: int = FETCH_SIZE) -> AsyncGenerator[QueryEvent, None]:
        """Run one statement, yielding its columns, its rows in batches, and its end.

        Statements run as psql runs them: BEGIN ... COMMIT/ROLLBACK are the user's, and an
        error inside the user's transaction leaves it aborted until its end. Rows of a query
        are fetched only as the caller asks for the next batch.
        """
        import psycopg

        conn = await self._ready_connection()
        started = time.monotonic()
        offset = 0
        try:
            if statement.streams:
                name = f"crestfall_query_{next(self._names)}"
                offset = self._declare_prefix_length(conn, name)
                # Closing this generator early must close the stream's at once (it ends its
                # transaction), not whenever the garbage collector gets to it.
                async with contextlib.aclosing(
                        self._stream(conn, statement, name, fetch_size, started)) as events:
                    async for event in events:
                        yield event
                return
            bare = statement.controls_transaction or (
                self.run_as is None and not self.postgres.read_only)
            async with contextlib.nullcontext() if bare else self.scope(conn):
                plain = conn.cursor()
                await plain.execute(statement.text.encode())
                total = plain.rowcount
                if plain.description is not None:
                    yield ResultStarted(statement,
                                        await self._columns(conn, plain))
                    total = 0
                    while rows := await plain.fetchmany(fetch_size):
                        total += len(rows)
                        yield RowBatch(rows)
            tag = plain.statusmessage or ""
            if self.log is not None:
                self._writes.ran(statement, Write(
                    statement.text, rows=max(plain.rowcount, 0), tag=tag,
                    run_as=self.run_as.label if self.run_as else "",
                    database=conn.info.dbname), in_transaction=self.in_transaction)
            yield StatementDone(statement, tag, max(total, 0), time.monotonic() - started)
        except psycopg.OperationalError as error:
            if conn.closed or conn.broken:
                was_open = self.transaction_state != "none" or self.manual
                await self._drop_lost_connection()
                raise QueryError(statement, self._lost_error(was_open).message,
                                 sqlstate=error.sqlstate) from None
            raise self._error(statement, error, offset) from None
        except psycopg.Error as error:
            raise self._error(statement, error, offset) from None

    async def _stream(self, conn: psycopg.AsyncConnection[Any], statement: Statement,
                      name: str, fetch_size: int,
                      started: float) -> AsyncGenerator[QueryEvent, None]:
        """A query behind a server-side cursor. Outside the user's transaction the cursor
        gets one of its own, held only until the last row is read or the caller closes this
        (the screen does after a while idle), so the session does not sit idle in a
        transaction holding locks and the vacuum horizon."""
        from psycopg.pq import TransactionStatus

        own = conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE
        cursor = conn.cursor(name=name, scrollable=True if self.scrollable else None)
        if own:
            await conn.execute("begin")
            self._result_transaction = True
        try:
            async with self.scope(conn):
                await cursor.execute(statement.text.encode())
                self._result = cursor
                yield ResultStarted(statement,
                                    await self._columns(conn, cursor))
                total = 0
                size = min(FIRST_FETCH, fetch_size)
                while rows := await cursor.fetchmany(size):
                    size = fetch_size
                    total += len(rows)
                    yield RowBatch(rows)
                await cursor.close()
            if own:
                await conn.execute("commit")
        finally:
            self._result = None
            if own:
                self._result_transaction = False
                if not conn.closed and \
                        conn.info.transaction_status != TransactionStatus.IDLE:
                    await conn.execute("rollback")  # released early, or failed
            elif not cursor.closed and not conn.closed and \
                    conn.info.transaction_status == TransactionStatus.INTRANS:
                await cursor.close()  # the user's transaction goes on without it
        yield StatementDone(statement, f"SELECT {total}", total, time.monotonic() - started)

    async def copy_out(self, statement: Statement, kind: str, write: Callable[[bytes], object],
                       progress: Callable[[CopyCount], None] | None = None) -> CopyCount:
        """A query's whole result, streamed by COPY into `write` at libpq's speed: `csv`
        with a header (NULL an unquoted empty field, '' a quoted one, as Postgres writes
        them), or `jsonl`, one JSON object a row (row_to_json)."""
        import psycopg

        conn = await self.connection()
        if kind == "csv":
            prefix, suffix = "COPY (", ") TO STDOUT WITH (FORMAT csv, HEADER)"
        else:
            prefix, suffix = "COPY (SELECT row_to_json(q)::text FROM (", ") q) TO STDOUT"
        # The user's own SQL, run as it is.
        command = (prefix + statement.text + suffix).encode()
        try:
            async with self.scope(conn):
                return await copy_out(conn, command, write, text_rows=kind != "csv",
                                      progress=progress)
        except psycopg.Error as error:
            raise self._error(statement, error, len(prefix)) from None

    async def fetch_window(self, start: int, count: int) -> list[tuple[Any, ...]]:
        """Rows `start` to `start + count - 1` (0-based) of the result being read, wherever
        they are: the server moves its cursor there, sending nothing in between. Fewer rows
        than asked: the result ends there."""
        cursor = self._reading()
        async with self._result_errors():
            await cursor.scroll(start, mode="absolute")
            return await cursor.fetchmany(count)

    async def result_size(self) -> int:
        """How many rows the result being read has. The server runs the query to its end
        to count them, but sends none of them."""
        from psycopg import sql

        cursor = self._reading()
        async with self._result_errors():
            await cursor.scroll(0, mode="absolute")
            moved = await cursor.connection.execute(
                sql.SQL("MOVE FORWARD ALL FROM {}").format(sql.Identifier(cursor.name)))
        return int((moved.statusmessage or "MOVE 0").split()[-1])

    def _reading(self) -> psycopg.AsyncServerCursor[tuple[Any, ...]]:
        if self._result is None or self._result.closed:
            raise CrestfallError("the result is no longer open on the server: run it again",
                                 title="Result")
        return self._result

    @contextlib.asynccontextmanager
    async def _result_errors(self) -> AsyncIterator[None]:
        """A failure while moving through a result, as one line; a lost connection is
        dropped, so the next statement opens another."""
        import psycopg

        try:
            yield
        except psycopg.Error as error:
            conn = self._conn
            if conn is not None and (conn.closed or conn.broken):
                was_open = self.in_transaction
                await self._drop_lost_connection()
                raise self._lost_error(was_open) from None
            raise CrestfallError(str(error).strip().splitlines()[0],
                                 title="Result") from None

    def _declare_prefix_length(self, conn: psycopg.AsyncConnection[Any], name: str) -> int:
        """Length of what psycopg puts before a server-side cursor's query (DECLARE ... FOR),
        so error positions can be given within the statement itself."""
        from psycopg import sql

        words = [sql.SQL("DECLARE"), sql.Identifier(name), sql.SQL("CURSOR"), sql.SQL("FOR ")]
        if self.scrollable:
            words.insert(2, sql.SQL("SCROLL"))
        prefix = sql.SQL(" ").join(words)
        return len(prefix.as_string(conn))

    async def _columns(self, conn: psycopg.AsyncConnection[Any],
                       cursor: Any) -> tuple[Column, ...]:
        """The result's columns, their types named as Postgres names them (integer, text[],
        an enum's own name, a domain's), read from the catalog once per kind of column and
        session."""
        description = cursor.description or ()
        result = cursor.pgresult
        keys = [(column.type_code, result.ftable(index) if result else 0,
                 result.ftablecol(index) if result else 0)
                for index, column in enumerate(description)]
        unknown = sorted(set(keys) - self._type_names.keys())
        if unknown:
            names = conn.cursor()
            await names.execute(query("type_names"), {
                "oids": [key[0] for key in unknown], "tables": [key[1] for key in unknown],
                "columns": [key[2] for key in unknown]})
            self._type_names |= {unknown[int(place) - 1]: str(name)
                                 for place, name in await names.fetchall()}
        return tuple(Column(column.name, self._type_names.get(key, f"oid {column.type_code}"),
                            column.type_code)
                     for column, key in zip(description, keys, strict=True))

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
