"""What each section shows, at 80x24, 120x36 and 200x50, against stored snapshots (SVG): a
seeded, deterministic database and a stack whose services are all down, so nothing in the picture
depends on time, ports or timings. `pytest --snapshot-update` records them anew after a
deliberate change; look at the report's pictures before accepting one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.config import RemoteEndpoints, StackConfig
from crestfall_tui.screens import QueryScreen, StackScreen, TablesScreen
from crestfall_tui.screens.query.plan import PlanModal
from crestfall_tui.stack.remote import RemoteRuntime
from crestfall_tui.widgets import ExtensionList, ServiceTable, TableGrid
from tests.drivers import state_of, until
from tests.helpers import StackUnderTest, scratch_database

SIZES = [(80, 24), (120, 36), (200, 50)]
SIZE_IDS = ["80x24", "120x36", "200x50"]


@pytest.fixture(scope="module")
def seeded(stack: StackUnderTest) -> Iterator[StackUnderTest]:
    """A database `snap` with a few tables whose rows, sizes and estimates never change."""
    with scratch_database(
            stack, "snap",
            "create table authors (id int primary key, name text not null)",
            "create table books (id int primary key, title text not null, "
            "author_id int references authors, published date, price numeric(8,2), "
            "tags text[], meta jsonb)",
            "insert into authors values (1, 'Ursula K. Le Guin'), (2, 'Iain Banks')",
            "insert into books values "
            "(1, 'The Dispossessed', 1, '1974-05-01', 12.50, '{sf,utopia}', "
            "'{\"pages\": 387}'), "
            "(2, 'A Wizard of Earthsea', 1, '1968-11-01', 9.99, '{fantasy}', null), "
            "(3, 'Excession', 2, '1996-01-01', null, '{}', '{\"culture\": true}')",
            "create view cheap_books as select title, price from books where price < 10",
            "vacuum analyze"):
        yield replace(stack, stack=replace(stack.stack, database="snap"))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_stack_section(snap_compare: object, size: tuple[int, int]) -> None:
    """The Stack section of a remote stack whose database does not answer."""
    stack = _remote_config()
    app = CrestfallApp(stack, RemoteRuntime(stack))

    async def settled(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, StackScreen)
                    and state_of(app, "db") != ""
                    and "db is down" in str(app.screen.query_one(ExtensionList).content))
        app.screen.query_one(ServiceTable).focus()
        # The table lays its columns out again after a probe's cells arrive: let the probe in
        # flight finish and the layout catch up, or the picture may catch the table between
        # the two (seen in CI under load).
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=settled)  # type: ignore[operator]


def _remote_config() -> StackConfig:
    return StackConfig(name="faraway", runtime="remote", remote=RemoteEndpoints(
        db_url="postgresql://postgres:pw@127.0.0.1:1/postgres"))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_tables_section(snap_compare: object, seeded: StackUnderTest,
                        size: tuple[int, int]) -> None:
    """The Tables section with the seeded `books` table open."""
    app = CrestfallApp(seeded.stack, seeded.runtime)

    async def opened(pilot: Pilot[None]) -> None:
        await _open_books(pilot, app)

    assert snap_compare(app, terminal_size=size, run_before=opened)  # type: ignore[operator]


async def _open_books(pilot: Pilot[None], app: CrestfallApp) -> None:
    """F2, find `books`, open it: its three rows in the grid."""
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(app.screen, TablesScreen)
                and bool(app.screen.query_one("#tree").relations))
    await pilot.press("slash", *"books", "enter")
    await until(pilot, lambda: len(app.screen.query_one(TableGrid).rows) == 3)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_tables_details(snap_compare: object, seeded: StackUnderTest,
                        size: tuple[int, int]) -> None:
    """`i` on `books`: the details panel beside the grid (in place of the tree when narrow),
    the grid keeping its columns."""
    app = CrestfallApp(seeded.stack, seeded.runtime)

    async def opened(pilot: Pilot[None]) -> None:
        await _open_books(pilot, app)
        await pilot.press("i")
        await until(pilot, lambda: app.screen.has_class("-details"))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=opened)  # type: ignore[operator]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_query_plan(snap_compare: object, seeded: StackUnderTest,
                    size: tuple[int, int]) -> None:
    """ctrl+l on a join: the plan tree, and the highlighted node's details wrapped below."""
    app = CrestfallApp(seeded.stack, seeded.runtime)

    async def planned(pilot: Pilot[None]) -> None:
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, QueryScreen))
        app.screen.query_one(TextArea).text = (
            "select b.title, a.name from books b join authors a on a.id = b.author_id "
            "where b.price < 10 order by b.published")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, PlanModal))
        await pilot.press("down")

    assert snap_compare(app, terminal_size=size, run_before=planned)  # type: ignore[operator]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_query_section(snap_compare: object, seeded: StackUnderTest,
                       size: tuple[int, int]) -> None:
    """The Query section with two statements written, the second one marked."""
    app = CrestfallApp(seeded.stack, seeded.runtime)

    async def written(pilot: Pilot[None]) -> None:
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, QueryScreen))
        editor = app.screen.query_one(TextArea)
        editor.cursor_blink = False
        editor.text = ("select title, price\n  from books\n where price < 10;\n"
                       "select count(*) from authors;")
        editor.move_cursor((3, 5))
        await until(pilot, lambda: "statement 2 of 2" in str(editor.border_title))

    assert snap_compare(app, terminal_size=size, run_before=written)  # type: ignore[operator]


SNAPSHOT_USERS = (
    ("0a5b1c2d-0000-4000-8000-000000000001", "snap-ada@users.test", "2025-03-01 09:30:00+00",
     "2025-06-01 12:00:00+00"),
    ("0a5b1c2d-0000-4000-8000-000000000002", "snap-grace@users.test", "2025-04-02 10:00:00+00",
     None),
)


@pytest.fixture(scope="module")
def snapshot_users(stack: StackUnderTest) -> Iterator[None]:
    """Two auth users whose ids, times and identities never change."""
    import psycopg

    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        for user_id, email, created, signed_in in SNAPSHOT_USERS:
            conn.execute("delete from auth.users where id = %s", (user_id,))
            conn.execute(
                "insert into auth.users (instance_id, id, aud, role, email, "
                "encrypted_password, email_confirmed_at, created_at, updated_at, "
                "last_sign_in_at, raw_app_meta_data, raw_user_meta_data, confirmation_token, "
                "recovery_token, email_change_token_new, email_change) values "
                "('00000000-0000-0000-0000-000000000000', %s, 'authenticated', "
                "'authenticated', %s, '', %s, %s, %s, %s, "
                "'{\"provider\": \"email\", \"providers\": [\"email\"]}', "
                "'{\"team\": \"compilers\"}', '', '', '', '')",
                (user_id, email, created, created, created, signed_in))
            conn.execute(
                "insert into auth.identities (provider_id, user_id, identity_data, provider, "
                "last_sign_in_at, created_at, updated_at) values (%s, %s, %s, 'email', %s, "
                "%s, %s)", (user_id, user_id, f'{{"sub": "{user_id}", "email": "{email}"}}',
                            created, created, created))
    yield
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        conn.execute("delete from auth.users where id = any(%s::uuid[])",
                     ([user_id for user_id, *_ in SNAPSHOT_USERS],))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_users_section(snap_compare: object, stack: StackUnderTest, snapshot_users: None,
                       size: tuple[int, int]) -> None:
    """The Users section searched down to the two seeded users (by the start of their
    email), counted exactly, the first one in detail."""
    from crestfall_tui.screens import UsersScreen
    from crestfall_tui.screens.users.user_list import UserList

    app = CrestfallApp(stack.stack, stack.runtime)

    async def listed(pilot: Pilot[None]) -> None:
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, UsersScreen))
        users = app.screen.query_one(UserList)
        await pilot.press("slash", *"snap-", "enter")
        await until(pilot, lambda: users.search == "snap-" and len(users.shown) == 2)
        await pilot.press("number_sign")
        await until(pilot, lambda: "2 shown of 2 " in str(
            users.query_one("#users-filters").render()))
        await app.workers.wait_for_complete()  # the detail of the first user
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=listed)  # type: ignore[operator]
