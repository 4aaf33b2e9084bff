"""Snippets and .sql files on the Query screen."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.errors import CrestfallError
from crestfall_tui.screens import QueryScreen
from crestfall_tui.services.snippets import Snippets
from tests.drivers import open_query, until
from tests.helpers import StackUnderTest


def test_snippets_saved_searched_and_private(tmp_path: Path) -> None:
    """Snippets come back by name or SQL, sorted, from a 0600 file; a damaged one is named."""
    snippets = Snippets(tmp_path)
    snippets.save("users", "select * from auth.users")
    snippets.save("active jobs", "select * from cron.job where active")
    assert list(snippets.all()) == ["active jobs", "users"]
    assert list(snippets.all("AUTH.")) == ["users"]
    assert stat.S_IMODE(snippets.path.stat().st_mode) == 0o600
    snippets.path.write_text("{broken")
    with pytest.raises(CrestfallError, match="is damaged"):
        snippets.all()


async def prompt_answer(app: CrestfallApp, pilot: object, answer: str) -> None:
    await until(pilot, lambda: bool(app.screen.query(Input)))  # type: ignore[arg-type]
    app.screen.query_one(Input).value = answer
    await pilot.press("enter")  # type: ignore[attr-defined]


def palette(screen: QueryScreen, title: str) -> None:
    """Choose the screen's command palette entry of that title."""
    [command] = [c for c in screen.commands() if c.title == title]
    command.callback()


async def test_snippet_and_file_round_trip_by_keys(stack: StackUnderTest, tmp_path: Path) -> None:
    """Save as snippet, insert it with ctrl+f; save the editor to a file and open it again;
    a missing file is reported, the editor keeps its text."""
    app = CrestfallApp(stack.stack, stack.runtime)
    sql_file = tmp_path / "saved.sql"
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select 'snippet body'")
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        editor = screen.query_one(TextArea)
        palette(screen, "Query: save as a snippet")
        await prompt_answer(app, pilot, "my snippet")
        await until(pilot, lambda: "my snippet" in Snippets(stack.stack.data_path).all())
        editor.text = ""
        await pilot.press("ctrl+f")
        await prompt_answer(app, pilot, "my snip")
        await until(pilot, lambda: editor.text == "select 'snippet body'")

        palette(screen, "Query: save the editor to a .sql file")
        await prompt_answer(app, pilot, str(sql_file))
        await until(pilot, lambda: sql_file.exists())
        editor.text = "changed"
        palette(screen, "Query: open a .sql file")
        await prompt_answer(app, pilot, str(sql_file))
        await until(pilot, lambda: editor.text == "select 'snippet body'")

        palette(screen, "Query: open a .sql file")
        await prompt_answer(app, pilot, str(tmp_path / "missing.sql"))
        await pilot.pause(0.3)
        assert editor.text == "select 'snippet body'" and app.is_running
