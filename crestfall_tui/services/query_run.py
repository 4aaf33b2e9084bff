"""The statement whose result the Query screen is reading: its event stream, taken a few
batches at a time by one reader at a time, and how long it has been left unread. No
Textual here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator
from enum import Enum
from typing import Any

from crestfall_tui.services.query_session import QueryEvent, QuerySession, RowBatch
from crestfall_tui.services.sql_text import Statement

LOST_CHECK_SECONDS = 1.0


class Watch(Enum):
    """What a look at the idle session found."""

    NOTHING = "nothing"
    LOST = "lost"
    """The server closed the connection (no transaction of the user's was open)."""
    LOST_TRANSACTION = "lost transaction"
    """The server closed the connection, rolling back the user's open transaction."""
    RELEASE = "release"
    """A half-read result has been left idle long enough: release it."""


class QueryRun:
    """One statement at a time on the session's connection."""

    def __init__(self, session: QuerySession) -> None:
        self.session = session
        self.lock = asyncio.Lock()
        """Held by whoever uses the session's connection: a reader of the result, the
        completion catalog, a commit."""
        self._events: AsyncGenerator[QueryEvent, None] | None = None
        self._read_at = 0.0
        self._checked_at = 0.0

    @property
    def reading(self) -> bool:
        """Whether a result is still being read (rows wait on the server)."""
        return self._events is not None

    def idle_for(self) -> float:
        """Seconds since rows were last taken from the current result."""
        return time.monotonic() - self._read_at

    async def start(self, statement: Statement) -> None:
        """Run `statement` next (the result before it is closed)."""
        await self.close()
        async with self.lock:
            self._events = self.session.run(statement)
            self._read_at = time.monotonic()

    async def take(self, batches: int | None) -> AsyncIterator[QueryEvent]:
        """The current statement's events until `batches` batches of rows came (all of
        them when None) or it ended."""
        async with self.lock:
            self._read_at = time.monotonic()
            taken = 0
            while self._events is not None and (batches is None or taken < batches):
                try:
                    event = await anext(self._events)
                except StopAsyncIteration:
                    self._events = None
                    break
                taken += isinstance(event, RowBatch)
                yield event
            self._read_at = time.monotonic()

    async def window(self, start: int, count: int) -> list[tuple[Any, ...]] | None:
        """Rows `start` to `start + count - 1` of the result being read, fetched wherever
        they are; None when no result is being read any more (done, released, replaced)."""
        async with self.lock:
            if self._events is None:
                return None
            try:
                return await self.session.fetch_window(start, count)
            finally:
                self._read_at = time.monotonic()

    async def size(self) -> int | None:
        """How many rows the result being read has (the server counts them; none are sent);
        None when no result is being read any more."""
        async with self.lock:
            if self._events is None:
                return None
            try:
                return await self.session.result_size()
            finally:
                self._read_at = time.monotonic()

    async def close(self) -> None:
        """Stop reading the current result; its transaction, if it had one, ends."""
        async with self.lock:
            if self._events is not None:
                events, self._events = self._events, None
                await events.aclose()

    async def release_idle(self) -> bool:
        """Close the current result if it still is one left idle past the session's
        `idle_release_s` holding a transaction of its own (a run started meanwhile is not);
        whether it was closed."""
        async with self.lock:
            idle = self.session.idle_release_s
            if self._events is None or not (self.session.holds_result and idle
                                            and self.idle_for() > idle):
                return False
            events, self._events = self._events, None
            await events.aclose()
            return True

    async def end_transaction(self, how: str) -> None:
        """Commit or roll back the user's transaction once nothing else uses the
        connection."""
        async with self.lock:
            await (self.session.commit() if how == "commit" else self.session.rollback())

    def watch(self) -> Watch:
        """Between statements (nothing may be running): notice a connection the server
        closed (a restart) within a second, and a half-read result left idle for the
        session's `idle_release_s`, so the session holds no transaction, no locks and no
        snapshot the user did not open. A loss is reported here, once: the next statement
        simply runs on a new connection."""
        now = time.monotonic()
        if now - self._checked_at >= LOST_CHECK_SECONDS:
            self._checked_at = now
            had = self.session.in_transaction
            if self.session.connection_lost():
                self.session.lost_transaction = False
                self.forget()
                return Watch.LOST_TRANSACTION if had else Watch.LOST
        idle = self.session.idle_release_s
        if self.session.holds_result and idle and self.idle_for() > idle:
            return Watch.RELEASE
        return Watch.NOTHING

    def forget(self) -> None:
        """The connection is gone, and the result with it."""
        self._events = None
