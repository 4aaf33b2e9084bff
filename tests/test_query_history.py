"""Query history: persisted per stack, newest first, searchable, robust to a damaged file."""

from __future__ import annotations

import stat
from pathlib import Path

from textual.widgets import Input, TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.services.query_history import HistoryEntry, QueryHistory
from tests.drivers import open_query, until
from tests.helpers import StackUnderTest


def test_history_is_kept_newest_first_and_searchable(tmp_path: Path) -> None:
    """Entries come back newest first, filtered by search, from a private file."""
    history = QueryHistory(tmp_path)
    history.add(HistoryEntry.now("select 1", 0.01, 1))
    history.add(HistoryEntry.now("select * from Users", 0.2, 3))
    history.add(HistoryEntry.now("delete from t", 0.1, None, "permission denied"))
    assert [e.text for e in history.entries()] == ["delete from t", "select * from Users",
                                                  "select 1"]
    assert [e.text for e in history.entries("users")] == ["select * from Users"]
    assert history.entries("delete")[0].ok is False
    assert stat.S_IMODE(history.file.path.stat().st_mode) == 0o600


def test_damaged_line_loses_nothing_else(tmp_path: Path) -> None:
    """A corrupt line (a crash mid-write, an editor) is skipped; the rest is read."""
    history = QueryHistory(tmp_path)
    history.add(HistoryEntry.now("select 'before'", 0.01, 1))
    with history.file.path.open("a") as handle:
        handle.write('{"text": "half a line\n\x00garbage\n')
    history.add(HistoryEntry.now("select 'after'", 0.01, 1))
    assert [e.text for e in history.entries()] == ["select 'after'", "select 'before'"]


async def test_runs_are_recorded_and_recalled_by_keys(stack: StackUnderTest) -> None:
    """A run lands in the stack's history; ctrl+r, a search, enter puts it back."""
    marker = "select 'history marker' as h"
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, marker)
        await pilot.press("ctrl+j")
        await until(pilot, lambda: any(e.text == marker
                                       for e in QueryHistory(stack.stack.data_path).entries()))
        editor = app.screen.query_one(TextArea)
        editor.text = "something else"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        await pilot.press(*"history marker")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.query_one(TextArea).text == marker)


async def test_arrows_move_the_choice_while_typing(stack: StackUnderTest) -> None:
    """In a type-to-filter list, down moves the highlighted choice although the search line
    has the focus, and enter takes that one, not the first."""
    first, second = "select 'arrow one' as a", "select 'arrow two' as a"
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        for text in (first, second):
            await open_query(stack, app, text)
            await pilot.press("ctrl+j")
            await until(pilot, lambda t=text: any(
                e.text == t for e in QueryHistory(stack.stack.data_path).entries()))
        app.screen.query_one(TextArea).text = ""
        await pilot.press("ctrl+r")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        await pilot.press(*"arrow")
        await pilot.pause(0.3)
        await pilot.press("down", "enter")  # newest first: the second choice is the first run
        await until(pilot, lambda: app.screen.query_one(TextArea).text == first)
