"""Test drivers: how the tests work each screen by keys and read what it shows, in one
place (waiting on a condition, opening a query or a table, editing a cell, committing)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, RichLog, TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.modals import ConfirmModal
from crestfall_tui.screens import TablesScreen
from crestfall_tui.screens.tables.cell_editor import CellEditorModal
from crestfall_tui.widgets import ConnectionList, ExtensionList, ResultGrid, ServiceTable, TableGrid
from tests.helpers import StackUnderTest

# --- any screen ---------------------------------------------------------------------------


async def until(pilot: Pilot[None], condition: Callable[[], bool], within: float = 30) -> None:
    """Let the app run until `condition` holds; fail the test if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await pilot.pause(0.05)


# --- Stack -------------------------------------------------------------------------------


def state_of(app: CrestfallApp, service: str) -> str:
    table = app.screen.query_one(ServiceTable)
    if service not in table.rows:
        return ""
    return str(table.get_cell(service, "state"))


def text_of(widget: ConnectionList | ExtensionList) -> str:
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(widget.content)
    return console.export_text()


# --- Query -------------------------------------------------------------------------------


def current_grid(app: CrestfallApp) -> ResultGrid:
    """The grid of the active result tab (tabs are replaced when a run starts)."""
    from textual.widgets import TabbedContent

    pane = app.screen.query_one(TabbedContent).active_pane
    assert pane is not None
    return pane.query_one(ResultGrid)


def log_text(app: CrestfallApp) -> str:
    return "\n".join(str(line.text) for line in app.screen.query_one(RichLog).lines)


async def open_query(stack: StackUnderTest, app: CrestfallApp, sql: str) -> None:
    """Switch to the Query screen (F3's mode) and put SQL in the editor."""
    await app.switch_mode("query")
    app.screen.query_one(TextArea).text = sql


# --- Tables ------------------------------------------------------------------------------


def grid(app: CrestfallApp) -> TableGrid:
    return app.screen.query_one(TableGrid)


def title(app: CrestfallApp) -> str:
    return str(app.screen.query_one("#tables-title").render())


async def open_table(pilot: Pilot[None], app: CrestfallApp, qualified: str) -> TableGrid:
    """F2, `/`, type the name, enter on the first match: the grid shows its rows."""
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(app.screen, TablesScreen)
                and bool(app.screen.query_one("#tree").relations))
    await pilot.press("slash", "ctrl+u", *qualified, "enter")
    await until(pilot, lambda: title(app).startswith(qualified) and grid(app).rows != [])
    return grid(app)


async def edit_cell(pilot: Pilot[None], app: CrestfallApp, value: str) -> None:
    """enter on the cell, the value in the line editor, enter: back on the grid."""
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, CellEditorModal))
    app.screen.query_one(Input).value = value
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, TablesScreen))


async def commit(pilot: Pilot[None], app: CrestfallApp) -> None:
    """ctrl+s, then yes."""
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
    await pilot.press("y")
    await until(pilot, lambda: not isinstance(app.screen, ConfirmModal))
