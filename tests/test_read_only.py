"""Read-only is enforced by the server's privileges: no statement can switch it off, under
any role run as, through every way of asking for it."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest

from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.pending import PendingChanges
from crestfall_tui.services.query_session import QueryError, QuerySession
from crestfall_tui.services.run_as import RunAs
from crestfall_tui.services.table_session import TableSession
from crestfall_tui.stack.remote import RemoteRuntime
from tests.helpers import StackUnderTest

Db = psycopg.Connection[tuple[object, ...]]

BYPASSES = [
    ["set default_transaction_read_only = off", "{write}"],
    ["begin read write", "{write}", "commit"],
    ["set session characteristics as transaction read write", "{write}"],
    ["select set_config('default_transaction_read_only', 'off', false)", "{write}"],
    ["begin", "set transaction read write", "{write}", "commit"],
    ["begin", "commit and chain", "set transaction read write", "{write}", "commit"],
    ["set role service_role", "{write}"],
    ["set role postgres", "{write}"],
    ["reset role", "set default_transaction_read_only = off", "{write}"],
    ["set session authorization postgres", "{write}"],
    ["{write}"],
]


@pytest.fixture
def table(db: Db) -> Iterator[str]:
    """A public table every API role may write to (the default privileges grant it)."""
    name = f"ro_{uuid.uuid4().hex[:8]}"
    db.execute(f"create table public.{name} (id serial primary key, v text)")
    db.execute(f"insert into public.{name} (v) values ('kept')")
    yield name
    db.execute(f"drop table public.{name}")


def rows(db: Db, table: str) -> list[object]:
    return [r[0] for r in db.execute(f"select v from public.{table} order by id")]


@pytest.mark.parametrize("run_as", [None, RunAs("service_role"), RunAs("anon"),
                                    RunAs("authenticated")],
                         ids=["reader", "service_role", "anon", "authenticated"])
async def test_no_statement_can_write(
        stack: StackUnderTest, db: Db, table: str, run_as: RunAs | None) -> None:
    """Every known way to switch read-only off fails to write, as every role run as, in
    autocommit and in manual transactions; reading still works."""
    write = f"update public.{table} set v = 'changed'"
    for manual in (False, True):
        session = QuerySession(stack.runtime.postgres(read_only=True), run_as=run_as)
        try:
            await session.set_manual(manual)
            for attempt in BYPASSES:
                for text in attempt:
                    with contextlib.suppress(QueryError):
                        [e async for e in session.run_all(text.format(write=write))]
                await session.rollback()
            assert rows(db, table) == ["kept"], (manual, attempt)
            events = [e async for e in session.run_all(f"select v from public.{table}")]
            assert any(getattr(e, "rows", None) == [("kept",)] for e in events) or \
                run_as is not None  # RLS or grants may hide rows from an API role
        finally:
            await session.close()


async def test_read_only_login_is_not_the_superuser(stack: StackUnderTest) -> None:
    """A read-only session logs in as crestfall_readonly and reads as crestfall_reader."""
    session = QuerySession(stack.runtime.postgres(read_only=True))
    try:
        events = [e async for e in session.run_all("select session_user, current_user")]
        assert [("crestfall_readonly", "crestfall_reader")] in [
            getattr(e, "rows", None) for e in events]
    finally:
        await session.close()


async def test_tables_view_as_cannot_commit_on_a_read_only_stack(
        stack: StackUnderTest, db: Db, table: str) -> None:
    """The Tables session's writes, viewing as service_role, are refused by the server."""
    session = TableSession(stack.runtime.postgres(read_only=True))
    try:
        await session.view_as("service_role")
        info = await session.table("public", table)
        pending = PendingChanges()
        pending.insert({"v": "sneaked in"})
        with pytest.raises(CrestfallError):
            await session.commit(info, pending)
        assert rows(db, table) == ["kept"]
    finally:
        await session.close()


def test_every_way_of_asking_reaches_the_query_command(
        stack: StackUnderTest, db: Db, table: str) -> None:
    """--read-only before or after `query`, and read_only = true, all refuse the write."""
    write = f"set default_transaction_read_only = off; update public.{table} set v = 'x'"
    read_only_config = stack.root / "read-only.toml"
    read_only_config.write_text(stack.config_path.read_text().replace(
        'runtime = "native"', 'runtime = "native"\nread_only = true'))
    from tests.helpers import run_cli

    runs = [stack.cli("--read-only", "query", "-c", write),
            stack.cli("query", "--read-only", "-c", write),
            run_cli("query", "--stack", stack.stack.name, "--config", str(read_only_config),
                    "-c", write)]
    for done in runs:
        assert done.returncode == 1, done.stdout + done.stderr
        assert "read-only transaction" in done.stderr or "permission denied" in done.stderr
    assert rows(db, table) == ["kept"]


def test_a_remote_read_only_stack_needs_a_read_only_login(stack: StackUnderTest) -> None:
    """A read-only remote stack without read_only_db_url is refused, and a superuser URL
    given as one is refused when it connects."""
    from crestfall_tui.config import RemoteEndpoints

    remote = replace(stack.stack, runtime="remote", read_only=True,
                     remote=RemoteEndpoints(db_url=stack.runtime.db_url()))
    with pytest.raises(CrestfallError, match="read_only_db_url"):
        RemoteRuntime(remote).postgres(read_only=True)._url()
    as_superuser = replace(remote, remote=RemoteEndpoints(
        db_url=stack.runtime.db_url(), read_only_db_url=stack.runtime.db_url()))
    import asyncio

    with pytest.raises(CrestfallError, match="superuser"):
        asyncio.run(RemoteRuntime(as_superuser).postgres(read_only=True).open())
