"""Running SQL as an API role or an auth user, with row-level security applying."""

from __future__ import annotations

import psycopg
import pytest
from textual.widgets import Input, TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.query_session import QuerySession, RowBatch
from crestfall_tui.services.run_as import resolve_run_as
from tests.drivers import current_grid, open_query, until
from tests.helpers import StackUnderTest, insert_auth_user

ALICE = "00000000-0000-0000-0000-0000000000a1"
BOB = "00000000-0000-0000-0000-0000000000b2"


@pytest.fixture(scope="module", autouse=True)
def notes(stack: StackUnderTest) -> None:
    """Two users, and a table whose policy shows each user only their own notes."""
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        for user, email in ((ALICE, "alice@example.com"), (BOB, "bob@example.com")):
            insert_auth_user(conn, email, user)
        conn.execute("drop table if exists notes; "
                     "create table notes (owner uuid, body text); "
                     "alter table notes enable row level security; "
                     "create policy own on notes using (owner = auth.uid()); "
                     "grant select on notes to anon, authenticated, service_role")
        conn.execute("insert into notes values (%s, 'alice note'), (%s, 'bob note')",
                     (ALICE, BOB))


async def visible(session: QuerySession) -> list[str]:
    rows = []
    async for event in session.run_all("select body from notes order by body"):
        if isinstance(event, RowBatch):
            rows += [row[0] for row in event.rows]
    return rows


async def test_roles_and_users_see_what_rls_allows(stack: StackUnderTest) -> None:
    """A user sees their own row; anon none; service_role (bypassrls) all; the superuser all."""
    session = QuerySession(PostgresClient(stack.runtime.db_url))
    try:
        conn = await session.connection()
        assert await visible(session) == ["alice note", "bob note"]
        session.run_as = await resolve_run_as(conn, "alice@example.com")
        assert session.run_as is not None and session.run_as.user_id == ALICE
        assert await visible(session) == ["alice note"]
        session.run_as = await resolve_run_as(conn, BOB)
        assert await visible(session) == ["bob note"]
        session.run_as = await resolve_run_as(conn, "anon")
        assert await visible(session) == []
        session.run_as = await resolve_run_as(conn, "service_role")
        assert await visible(session) == ["alice note", "bob note"]
        with pytest.raises(CrestfallError, match="no auth user"):
            await resolve_run_as(conn, "nobody@example.com")
    finally:
        await session.close()


async def test_run_as_by_keys(stack: StackUnderTest) -> None:
    """ctrl+n, an email, enter: the next run sees only that user's rows."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select body from notes order by body")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = "bob@example.com"
        await pilot.press("enter")
        await until(pilot, lambda: "bob@example.com" in str(
            app.screen.query_one(TextArea).border_subtitle))
        await pilot.press("ctrl+j")
        await until(pilot, lambda: current_grid(app).complete
                    and current_grid(app).rows == [("bob note",)])


async def test_an_empty_answer_returns_to_the_superuser(stack: StackUnderTest) -> None:
    """Run as anon, then ctrl+n with the answer emptied: the session is the superuser again
    (the border says so, current_user says so); escape would have kept anon."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select current_user as who")
        editor = app.screen.query_one(TextArea)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = "anon"
        await pilot.press("enter")
        await until(pilot, lambda: "as anon" in str(editor.border_subtitle))
        await pilot.press("ctrl+n")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert "as anon" in str(editor.border_subtitle)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")
        await until(pilot, lambda: "as anon" not in str(editor.border_subtitle))
        await pilot.press("ctrl+j")
        await until(pilot, lambda: current_grid(app).rows == [("postgres",)])
