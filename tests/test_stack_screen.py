"""The Stack screen, driven by key presses (Textual's Pilot) against real services."""

from __future__ import annotations

import asyncio

from textual.widgets import RichLog

from crestfall_tui.app import CrestfallApp
from crestfall_tui.config import RemoteEndpoints, StackConfig
from crestfall_tui.modals import ConfirmModal
from crestfall_tui.screens import StackScreen
from crestfall_tui.stack.model import ServiceState
from crestfall_tui.stack.remote import RemoteRuntime
from crestfall_tui.widgets import ConnectionList, ExtensionList, ServiceTable
from tests.drivers import state_of, text_of, until
from tests.helpers import StackUnderTest


def studio(target: StackUnderTest) -> CrestfallApp:
    return CrestfallApp(target.stack, target.runtime)


async def test_shows_services_extensions_and_masked_secrets(stack: StackUnderTest) -> None:
    """On open: every service with its state, the extensions, and connection strings masked."""
    app = studio(stack)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "healthy" in state_of(app, "search"))
        assert "healthy" in state_of(app, "db")
        assert "not installed" in state_of(app, "rest")
        assert isinstance(app.screen, StackScreen)
        extensions = app.screen.query_one(ExtensionList)
        await until(pilot, lambda: "pg_cron" in text_of(extensions))
        assert "✓" in text_of(extensions)
        connections = app.screen.query_one(ConnectionList)
        password = stack.runtime.secrets.postgres_password
        assert "postgres:***@" in text_of(connections)
        assert password not in text_of(connections)
        await pilot.press("v")
        assert password in text_of(connections)
        await pilot.press("v")
        assert password not in text_of(connections)


async def test_restart_selected_service_by_keys(scratch: StackUnderTest) -> None:
    """Cursor to search, `r`, confirm with `y`: search gets a new process and is healthy."""
    app = studio(scratch)
    before = scratch.runtime.services["search"].pid()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "healthy" in state_of(app, "search"))
        await app.workers.wait_for_complete()
        await pilot.press("down", "down")
        assert app.screen.query_one(ServiceTable).selected_service == "search"
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await until(pilot, lambda: scratch.runtime.services["search"].pid() not in (None, before))
        await until(pilot, lambda: not app.screen.busy and "healthy" in state_of(app, "search"))
        log = app.screen.query_one(RichLog)
        assert any("search: healthy" in str(line.text) for line in log.lines)


async def test_stop_asks_first_and_start_brings_it_back(scratch: StackUnderTest) -> None:
    """`s` asks before stopping (n keeps it running); `s` `y` stops all; `u` starts it again."""
    app = studio(scratch)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "healthy" in state_of(app, "db"))
        await app.workers.wait_for_complete()
        await pilot.press("s")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        assert scratch.runtime.db.pid() is not None
        await pilot.press("s", "y")
        await until(pilot, lambda: scratch.runtime.db.pid() is None)
        await until(pilot, lambda: "down" in state_of(app, "db")
                    and "down" in state_of(app, "search"))
        await until(pilot, lambda: not app.screen.busy)
        await pilot.press("u")
        await until(pilot, lambda: "healthy" in state_of(app, "db")
                    and "healthy" in state_of(app, "search"), within=60)
    assert scratch.runtime.status().healthy


async def test_survives_the_db_going_away(scratch: StackUnderTest) -> None:
    """The db stopped behind the studio's back shows as down, then healthy when it is back."""
    app = studio(scratch)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "healthy" in state_of(app, "db"))
        await app.workers.wait_for_complete()
        await asyncio.to_thread(scratch.runtime.db.stop)
        await until(pilot, lambda: "down" in state_of(app, "db"), within=15)
        extensions = app.screen.query_one(ExtensionList)
        await until(pilot, lambda: "db is down" in text_of(extensions))
        await asyncio.to_thread(scratch.runtime.up)
        await until(pilot, lambda: "healthy" in state_of(app, "db"), within=15)
        await until(pilot, lambda: "pg_cron" in text_of(extensions))
        assert app.is_running


async def test_remote_stack_cannot_be_started_or_stopped() -> None:
    """A remote stack whose db is unreachable shows it down and offers no lifecycle keys."""
    remote = StackConfig(name="staging", runtime="remote", remote=RemoteEndpoints(
        db_url="postgresql://postgres:pw@127.0.0.1:1/postgres"))
    app = CrestfallApp(remote, RemoteRuntime(remote))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "down" in state_of(app, "db"))
        screen = app.screen
        assert isinstance(screen, StackScreen)
        assert screen.check_action("stop", ()) is False
        await pilot.press("s")
        assert not isinstance(app.screen, ConfirmModal)
        connections = text_of(screen.query_one(ConnectionList))
        assert "postgres:***@" in connections and ":pw@" not in connections
        assert ServiceState.NOT_INSTALLED.value in state_of(app, "search")


async def test_help_panel_toggles(stack: StackUnderTest) -> None:
    """`?` shows the keys panel and hides it again."""
    from textual.widgets import HelpPanel

    app = studio(stack)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        assert app.screen.query(HelpPanel)
        await pilot.press("question_mark")
        assert not app.screen.query(HelpPanel)
