"""COPY ... TO STDOUT at libpq's own speed, for exports of any size. No Textual here.

Written against psycopg's libpq wrapper (`pgconn`) rather than its `Copy` object: Postgres
sends a COPY result as one message a row, and psycopg's Copy hands each one through its
generator and wait machinery, which made a 2,000,000-row export 2 to 4 times slower than
psql's `\\copy` (measured: 2.8 s async and 1.4 s sync against psql's 0.7 s for the same
166 MB). Here a worker thread runs libpq's loop, as psql does, and writes whatever rows have
arrived in one go; the event loop stays free and hears the progress."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg
    from psycopg import pq

PROGRESS_EVERY = 0.2
"""Seconds between progress reports."""

_TEXT_ESCAPE = re.compile(rb"\\([\\bfnrtv])")
_TEXT_UNESCAPED = {b"\\": b"\\", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r",
                   b"t": b"\t", b"v": b"\v"}


@dataclass
class CopyCount:
    """What a COPY sent so far."""

    bytes: int = 0
    """Bytes written (after any unescaping)."""
    messages: int = 0
    """COPY data messages: Postgres sends one a row (and one for a CSV header)."""


def unescape_text(data: bytes | bytearray) -> bytes:
    """A single-column COPY text row as its value: COPY's text format escapes a backslash
    and the control characters b, f, n, r, t and v with a backslash (and writes nothing else
    escaped for a non-null value)."""
    return _TEXT_ESCAPE.sub(lambda match: _TEXT_UNESCAPED[match.group(1)], bytes(data))


async def copy_out(conn: psycopg.AsyncConnection[Any], command: bytes,
                   write: Callable[[bytes], object], *, text_rows: bool = False,
                   progress: Callable[[CopyCount], None] | None = None) -> CopyCount:
    """Run `command` (a COPY ... TO STDOUT) on `conn` and pass what it sends to `write`,
    from a worker thread; with `text_rows`, each row of a one-column text COPY is unescaped
    to its value. Errors are psycopg's; cancelling this cancels the COPY on the server."""
    count = CopyCount()
    async with conn.lock:
        work = asyncio.ensure_future(asyncio.to_thread(
            _copy_blocking, conn.pgconn, command, write, count, text_rows,
            conn.info.encoding))
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=PROGRESS_EVERY)
                if progress is not None:
                    progress(count)
        except asyncio.CancelledError:
            await conn.cancel_safe()
            with contextlib.suppress(BaseException):
                await work
            raise
        work.result()  # its error, if it failed
    return count


def copy_out_sync(conn: psycopg.Connection[Any], command: bytes,
                  write: Callable[[bytes], object], *, text_rows: bool = False) -> CopyCount:
    """`copy_out` on a synchronous connection, in the calling thread (the script runner's);
    Ctrl-C there cancels the COPY on the server."""
    count = CopyCount()
    with conn.lock:
        _copy_blocking(conn.pgconn, command, write, count, text_rows, conn.info.encoding)
    return count


def _copy_blocking(pgconn: pq.abc.PGconn, command: bytes, write: Callable[[bytes], object],
                   count: CopyCount, text_rows: bool, encoding: str) -> None:
    from psycopg import errors
    from psycopg.pq import ExecStatus

    nonblocking = pgconn.nonblocking
    pgconn.nonblocking = 0
    try:
        pgconn.send_query(command)
        result = pgconn.get_result()
        if result is None or result.status != ExecStatus.COPY_OUT:
            _drain_results(pgconn)
            if result is not None and result.status == ExecStatus.FATAL_ERROR:
                raise errors.error_from_result(result, encoding=encoding)
            raise errors.ProgrammingError("not a COPY ... TO STDOUT statement")
        try:
            _read_rows(pgconn, write, count, text_rows)
        except BaseException:
            _abandon(pgconn)  # a failed write (a closed pipe, a full disk)
            raise
        final = pgconn.get_result()
        _drain_results(pgconn)
        if final is not None and final.status == ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(final, encoding=encoding)
    finally:
        pgconn.nonblocking = nonblocking


def _read_rows(pgconn: pq.abc.PGconn, write: Callable[[bytes], object], count: CopyCount,
               text_rows: bool) -> None:
    """Take every row libpq already holds, write them at once, then wait for the socket:
    the least Python per row (this loop, not the server, is the cost to keep down), and
    what has come is written as soon as the server pauses, as psql's would be."""
    import select

    get = pgconn.get_copy_data
    rows: list[memoryview] = []
    size = 1
    while size >= 0:
        while (taken := get(1))[0] > 0:
            rows.append(taken[1])
        size = taken[0]  # 0: nothing more yet; -1: the end; -2: an error (the final result)
        if rows:
            data = b"".join(rows)
            count.messages += len(rows)
            rows.clear()
            if text_rows:
                data = unescape_text(data)
            write(data)
            count.bytes += len(data)
        if size == 0:
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()


def _abandon(pgconn: pq.abc.PGconn) -> None:
    """Stop a COPY half read: cancel it on the server and read what is left, so the
    connection can be used (or closed) cleanly."""
    with contextlib.suppress(Exception):
        pgconn.get_cancel().cancel()
    with contextlib.suppress(Exception):
        while pgconn.get_copy_data(0)[0] >= 0:
            pass
    with contextlib.suppress(Exception):
        _drain_results(pgconn)


def _drain_results(pgconn: pq.abc.PGconn) -> None:
    while pgconn.get_result() is not None:
        pass
