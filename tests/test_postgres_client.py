"""The studio's Postgres client against the real server."""

from __future__ import annotations

import psycopg
import pytest

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError
from tests.helpers import StackUnderTest


async def test_read_only_sessions_refuse_writes(stack: StackUnderTest) -> None:
    """With read_only, the server itself refuses a write; without it, the write goes through."""
    read_only = stack.runtime.postgres(read_only=True)
    async with read_only.connect() as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            await conn.execute("create table read_only_probe (id int)")
    writable = PostgresClient(stack.runtime.db_url)
    async with writable.connect() as conn:
        await conn.execute("create table if not exists writable_probe (id int)")
        await conn.execute("drop table writable_probe")


async def test_refused_connection_is_explained() -> None:
    """A database that does not answer gives a CrestfallError naming host and port."""
    down = PostgresClient(lambda: "postgresql://postgres:pw@127.0.0.1:1/postgres")
    with pytest.raises(CrestfallError, match="refused the connection on 127.0.0.1:1"):
        async with down.connect():
            pass
