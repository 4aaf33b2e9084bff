"""Completion: the context rules on their own, the catalog from the real Postgres, the keys."""

from __future__ import annotations

import psycopg
from textual.widgets import TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.modals.picker import PickerModal
from crestfall_tui.services.completion import Catalog, complete, load_catalog
from crestfall_tui.widgets.completion_menu import CompletionMenu
from tests.drivers import open_query, until
from tests.helpers import StackUnderTest

CATALOG = Catalog.from_rows(
    [("public", "users", "id"), ("public", "users", "email"), ("auth", "users", "id"),
     ("auth", "users", "banned_until"), ("public", "posts", "title"),
     ("public", "posts", "author")], ["my_function"])


def test_relations_after_from_and_join() -> None:
    """After FROM/JOIN/UPDATE/INTO: relations and schemas that start with the word."""
    assert complete("select * from po", "select * from po", CATALOG) == ["posts"]
    assert "auth.users" in complete("update ", "update ", CATALOG)
    assert complete("select * from auth.", "select * from auth.", CATALOG) == ["users"]


def test_columns_after_alias_or_table_dot() -> None:
    """After `alias.` or `table.`: that relation's columns."""
    statement = "select p. from posts p join auth.users u on u.id = p.author"
    assert complete("select p.", statement, CATALOG) == ["title", "author"]
    assert complete("select u.b", statement, CATALOG) == ["banned_until"]
    assert complete("select posts.t", "select posts.t from posts", CATALOG) == ["title"]


def test_elsewhere_keywords_columns_and_functions() -> None:
    """Elsewhere: columns of the statement's tables first, then keywords and functions."""
    found = complete("select ", "select  from posts", CATALOG)
    assert found[:2] == ["author", "title"] and "where" in found
    assert complete("select my_f", "select my_f", CATALOG) == ["my_function"]
    assert complete("select x", "select x", CATALOG) == []


async def test_catalog_reads_the_stacks_relations(stack: StackUnderTest) -> None:
    """The real catalog knows auth.users and its GoTrue columns."""
    async with PostgresClient(stack.runtime.db_url).connect() as conn:
        catalog = await load_catalog(conn)
    assert "banned_until" in catalog.columns["auth.users"]
    assert "auth" in catalog.schemas


async def test_completion_by_keys(stack: StackUnderTest) -> None:
    """ctrl+space completes a unique name at once; with more, a list opens at the cursor,
    narrows as you type, down/enter choose; escape closes it and the editor keeps its keys."""
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        conn.execute("drop table if exists completion_target; "
                     "create table completion_target (alpha int, alpine text, alto int)")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select * from completion_tar")
        editor = app.screen.query_one(TextArea)
        menu = app.screen.query_one(CompletionMenu)
        editor.move_cursor((0, len(editor.text)))
        await pilot.press("ctrl+space")
        await until(pilot, lambda: editor.text == "select * from completion_target")
        editor.text = "select c.al from completion_target c"
        editor.move_cursor((0, len("select c.al")))
        await pilot.press("ctrl+space")
        await until(pilot, lambda: menu.is_open and menu.option_count == 3)
        assert not isinstance(app.screen, PickerModal)
        await pilot.press("p")  # narrows to alpha, alpine
        await until(pilot, lambda: menu.option_count == 2)
        await pilot.press("down", "enter")
        await until(pilot, lambda: editor.text == "select c.alpine from completion_target c")
        assert not menu.is_open
        editor.move_cursor((0, len("select c.al")))
        await pilot.press("ctrl+space")
        await until(pilot, lambda: menu.is_open)
        await pilot.press("escape", "down")
        assert not menu.is_open and editor.text.startswith("select c.alpine")


async def test_tab_leaves_the_editor_when_no_list_is_open(stack: StackUnderTest) -> None:
    """With no completion list open, tab moves on from the editor (toward the results);
    with the list open it chooses from the list."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select 1")
        editor = app.screen.query_one(TextArea)
        editor.focus()
        await pilot.press("tab")
        await until(pilot, lambda: app.focused is not editor)
        results = app.screen.query_one("#results")
        assert app.focused is not None and results in app.focused.ancestors_with_self
        assert editor.text == "select 1"
