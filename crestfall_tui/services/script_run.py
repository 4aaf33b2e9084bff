"""Running a script as `psql -f` runs it, for `crestfall-tui query`: each statement as it is
read, in order, on one synchronous connection. No Textual here.

Synchronous, unlike the studio's `QuerySession`, because a script is mostly a long run of
short statements whose cost is their round trip: awaiting each one through the asyncio event
loop and psycopg's cursor added about 60 µs a statement (a 560,000-insert script took 1.6
times psql's time). Here a statement that returns no rows goes to libpq's PQexec as it is
(the simple query protocol, as psql sends it) and its result is read in place. The script
runs in a worker thread (`run_interruptible`) so that Ctrl-C, heard by the main thread while
libpq blocks, cancels the statement on the server as psql's does.

The events and errors are the session's own (`ResultStarted`, `RowBatch`, `StatementDone`,
`QueryError`); values are Postgres's own text.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from crestfall_tui.clients.copy_out import CopyCount, copy_out_sync
from crestfall_tui.clients.postgres import PostgresClient, load_as_text
from crestfall_tui.services.query_session import (
    FETCH_SIZE,
    FIRST_FETCH,
    Column,
    QueryEvent,
    QuerySession,
    ResultStarted,
    RowBatch,
    StatementDone,
)
from crestfall_tui.services.run_as import role_scope_sync
from crestfall_tui.services.sql_text import CopyData, MetaCommand, Statement, StatementReader

if TYPE_CHECKING:
    import psycopg
    from psycopg import pq

T = TypeVar("T")


class ScriptSession:
    """One connection running one script's statements in order; use it in a `with`."""

    def __init__(self, postgres: PostgresClient, fetch_size: int = FETCH_SIZE) -> None:
        self.postgres = postgres
        self.fetch_size = fetch_size
        self.notices: list[str] = []
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._cancel: pq.abc.PGcancel | None = None
        self._cursors = 0
        self._stopped = False
        self._copying: tuple[Statement, float] | None = None
        """The COPY ... FROM STDIN waiting for its data, and when it started."""

    def __enter__(self) -> ScriptSession:
        conn = self.postgres.open_sync()
        conn.prepare_threshold = None  # the user's statements run once each, as psql runs them
        conn.add_notice_handler(
            lambda diag: self.notices.append(f"{diag.severity}: {diag.message_primary}"))
        load_as_text(conn.adapters)
        self._conn = conn
        self._cancel = conn.pgconn.get_cancel()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()  # the server rolls back a transaction left open

    def cancel(self) -> None:
        """From another thread: cancel the running statement on the server and run no
        other; the script's statement ends in `KeyboardInterrupt`."""
        self._stopped = True
        if self._cancel is not None:
            self._cancel.cancel()

    @property
    def conn(self) -> psycopg.Connection[tuple[Any, ...]]:
        assert self._conn is not None, "use the session in a `with`"
        return self._conn

    def run(self, statement: Statement) -> Iterator[QueryEvent]:
        """Run one statement: its columns, its rows in batches, and its end. BEGIN ...
        COMMIT/ROLLBACK are the script's own; an error inside its transaction leaves it
        aborted until its end, as psql leaves it."""
        import psycopg

        if self._stopped:
            raise KeyboardInterrupt
        started = time.monotonic()
        prefix = 0
        try:
            if statement.streams:
                name = f"crestfall_query_{self._cursors}"
                self._cursors += 1
                prefix = len(f'DECLARE "{name}" CURSOR FOR ')
                yield from self._stream(statement, name, started)
                return
            if self.postgres.read_only:
                with self._scope(statement):
                    result = self._execute(statement.text.encode())
            else:
                result = self._execute(statement.text.encode(), copy_in=True)
                if self._copy_in(result):
                    self._copying = (statement, started)  # its data comes next
                    return
            yield from self._plain_events(statement, result, started)
        except psycopg.Error as error:
            if self._stopped:
                raise KeyboardInterrupt from None
            raise QuerySession.error_for(statement, error, prefix) from None

    def copy_data(self, data: CopyData) -> Iterator[QueryEvent]:
        """The data of the COPY ... FROM STDIN that ran last, sent as it is read; at its end,
        the COPY's outcome (its rows, or the server's refusal of a line)."""
        import psycopg
        from psycopg import errors
        from psycopg.pq import ExecStatus

        if self._copying is None:
            return
        statement, started = self._copying
        conn = self.conn
        pgconn = conn.pgconn
        with conn.lock:
            if self._stopped:
                pgconn.put_copy_end(b"cancelled")
            elif data.text:
                pgconn.put_copy_data(data.text.encode(conn.info.encoding))
            if not data.last and not self._stopped:
                return
            if not self._stopped:
                pgconn.put_copy_end(None)
            result = pgconn.get_result()
            while pgconn.get_result() is not None:
                pass
        self._copying = None
        if self._stopped:
            raise KeyboardInterrupt
        if result is None or result.status == ExecStatus.FATAL_ERROR:
            error: psycopg.Error = errors.error_from_result(result, encoding=conn.info.encoding) \
                if result is not None else psycopg.OperationalError("the COPY got no result")
            raise QuerySession.error_for(statement, error, 0) from None
        yield StatementDone(statement, (result.command_status or b"").decode(),
                            result.command_tuples or 0, time.monotonic() - started)

    def copy_out(self, statement: Statement, write: Callable[[bytes], object]) -> CopyCount:
        """A query's whole result as CSV with a header, streamed by COPY into `write`."""
        import psycopg

        prefix, suffix = "COPY (", ") TO STDOUT WITH (FORMAT csv, HEADER)"
        try:
            with self._scope(statement):
                # The user's own SQL, run as it is.
                return copy_out_sync(self.conn, (prefix + statement.text + suffix).encode(),
                                     write)
        except psycopg.Error as error:
            if self._stopped:
                raise KeyboardInterrupt from None
            raise QuerySession.error_for(statement, error, len(prefix)) from None

    def _scope(self, statement: Statement) -> Any:
        """As the studio runs the user's SQL: read-only for good on a read-only stack; a
        statement that begins or ends the script's transaction runs as it is."""
        read_only = self.postgres.read_only and not statement.controls_transaction
        return role_scope_sync(self.conn, None, read_only=read_only,
                               reader=self.postgres.reader_role)

    def _execute(self, command: bytes, *, copy_in: bool = False) -> pq.abc.PGresult:
        """One statement through libpq's PQexec (blocking, the GIL released), its result
        read in place: what psycopg's cursor would do, without a cursor and a wait loop for
        each statement. With `copy_in`, a COPY FROM STDIN is left waiting for its data."""
        from psycopg import errors
        from psycopg.pq import ExecStatus

        conn = self.conn
        with conn.lock:
            result = conn.pgconn.exec_(command)
        if result.status == ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=conn.info.encoding)
        if self._copy_in(result) and copy_in:
            return result
        if result.status in (ExecStatus.COPY_IN, ExecStatus.COPY_OUT, ExecStatus.COPY_BOTH):
            self._end_copy(result.status)
        return result

    @staticmethod
    def _copy_in(result: pq.abc.PGresult) -> bool:
        from psycopg.pq import ExecStatus

        return bool(result.status == ExecStatus.COPY_IN)

    def _end_copy(self, status: int) -> None:
        """A COPY TO STDOUT in a script (or a COPY FROM STDIN on a read-only stack):
        refused; the connection is left ready."""
        from psycopg import errors
        from psycopg.pq import ExecStatus

        pgconn = self.conn.pgconn
        if status == ExecStatus.COPY_IN:
            pgconn.put_copy_end(b"COPY FROM STDIN is not supported in a script")
        else:
            pgconn.get_cancel().cancel()
            while pgconn.get_copy_data(0)[0] >= 0:
                pass
        while pgconn.get_result() is not None:
            pass
        raise errors.FeatureNotSupported(
            "COPY ... TO STDOUT cannot run as a statement of a script: use --format csv "
            "for a query's rows, or psql's \\copy for a file")

    def _plain_events(self, statement: Statement, result: pq.abc.PGresult,
                      started: float) -> Iterator[QueryEvent]:
        from psycopg.pq import ExecStatus

        tag = (result.command_status or b"").decode()
        total = result.command_tuples or 0
        if result.status == ExecStatus.TUPLES_OK:
            encoding = self.conn.info.encoding
            yield ResultStarted(statement, tuple(
                Column((result.fname(i) or b"").decode(encoding), "", result.ftype(i))
                for i in range(result.nfields)))
            get, width = result.get_value, range(result.nfields)
            total = result.ntuples
            for first in range(0, total, self.fetch_size):
                yield RowBatch([tuple(None if (value := get(row, column)) is None
                                      else value.decode(encoding) for column in width)
                                for row in range(first, min(total, first + self.fetch_size))])
        yield StatementDone(statement, tag, total, time.monotonic() - started)

    def _stream(self, statement: Statement, name: str,
                started: float) -> Iterator[QueryEvent]:
        """A query behind a server-side cursor, its rows read as they are printed. Outside
        the script's transaction the cursor gets one of its own, ended with the result."""
        from psycopg.pq import TransactionStatus

        conn = self.conn
        own = conn.info.transaction_status == TransactionStatus.IDLE
        cursor = conn.cursor(name=name)
        if own:
            conn.execute("begin")
        try:
            with self._scope(statement):
                cursor.execute(statement.text.encode())
                description = cursor.description or ()
                yield ResultStarted(statement, tuple(Column(c.name, "", c.type_code)
                                                     for c in description))
                total = 0
                size = min(FIRST_FETCH, self.fetch_size)
                while rows := cursor.fetchmany(size):
                    size = self.fetch_size
                    total += len(rows)
                    yield RowBatch(rows)
                cursor.close()
            if own:
                conn.execute("commit")
        finally:
            if own and not conn.closed and \
                    conn.info.transaction_status != TransactionStatus.IDLE:
                conn.execute("rollback")
            elif not cursor.closed and not conn.closed and \
                    conn.info.transaction_status == TransactionStatus.INTRANS:
                cursor.close()  # the script's transaction goes on without it
        yield StatementDone(statement, f"SELECT {total}", total, time.monotonic() - started)



def run_interruptible(session: ScriptSession, work: Callable[[], T]) -> T:
    """`work` (which runs the session's statements) in a worker thread, its result or its
    error here. Ctrl-C, which only the main thread hears and which libpq would not notice
    while it waits for the server, cancels the session's statement on the server, lets the
    work stop, and ends in `KeyboardInterrupt`."""
    outcome: list[Any] = []

    def worker() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as error:  # handed to the main thread as it is
            outcome.append((False, error))

    thread = threading.Thread(target=worker, name="script", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        session.cancel()
        thread.join(10)
        raise
    succeeded, value = outcome[0]
    if succeeded:
        return cast(T, value)
    raise value


READ_AHEAD = 4
"""Chunks of statements split ahead of the one running (each chunk about 64 KB of SQL)."""


def statements_read_ahead(chunks: Iterable[str]) -> Iterator[Statement | CopyData | MetaCommand]:
    """The statements of `chunks`, read and split in a thread of their own a few chunks
    ahead: the splitting then runs while the server runs the statements before (libpq waits
    with the GIL released) instead of between them. Memory stays bounded; an error reading
    the input comes out where it happened, after the statements before it."""
    batches: queue.Queue[list[Any] | BaseException | None] = queue.Queue(READ_AHEAD)
    done = threading.Event()

    def put(item: list[Any] | BaseException | None) -> bool:
        while not done.is_set():
            try:
                batches.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            reader = StatementReader(script=True)
            for chunk in chunks:
                if not put(reader.feed(chunk)):
                    return
            put(reader.feed("", final=True))
            put(None)
        except BaseException as error:  # handed to the consumer, where it belongs
            put(error)

    threading.Thread(target=read, name="script-reader", daemon=True).start()
    try:
        while (batch := batches.get()) is not None:
            if isinstance(batch, BaseException):
                raise batch
            yield from batch
    finally:
        done.set()  # the consumer stopped (an error, the end): so does the reader
