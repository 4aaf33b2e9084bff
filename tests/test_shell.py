"""The studio's shell: sections from the registry, the palette, quitting, the keymap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import HelpPanel, TextArea

from crestfall_tui.app import CrestfallApp, binding_ids, check_keymap
from crestfall_tui.config import load_config
from crestfall_tui.errors import ConfigError
from crestfall_tui.screens import (
    CrestfallScreen,
    CronScreen,
    QueryScreen,
    StackScreen,
    TablesScreen,
    UsersScreen,
)
from crestfall_tui.sections import SECTIONS
from tests.drivers import log_text, until
from tests.helpers import StackUnderTest, run_cli, scratch_database


async def test_every_section_has_its_key_and_palette_entry(stack: StackUnderTest) -> None:
    """Each registry row gives an F-key that opens its section and a palette entry; the
    section's own commands are in the palette while it shows."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        expected = {"f1": StackScreen, "f2": TablesScreen, "f3": QueryScreen,
                    "f4": UsersScreen, "f6": CronScreen}
        assert [s.key for s in SECTIONS] == list(expected)
        for key, screen_class in expected.items():
            await pilot.press(key)
            await until(pilot, lambda cls=screen_class: isinstance(app.screen, cls))
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert all(f"Go to {s.title} ({s.key.upper()})" in titles for s in SECTIONS)
            screen = app.screen
            assert isinstance(screen, CrestfallScreen)
            assert [c.title for c in screen.commands()] == [
                t for t in titles if t.startswith(f"{screen.SECTION}:")]


async def test_a_keymap_entry_remaps_a_key_and_help_shows_it(stack: StackUnderTest) -> None:
    """With `"query.run" = "f5"`, f5 runs the statement, ctrl+j no longer does, and the help
    (`?`) names f5 for it."""
    app = CrestfallApp(stack.stack, stack.runtime, keymap={"query.run": "f5"})
    async with app.run_test(size=(120, 36)) as pilot:
        await app.switch_mode("query")
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        screen.query_one(TextArea).text = "select 7 as seven"
        await pilot.press("ctrl+j")
        await pilot.pause(0.3)
        assert "SELECT 1" not in log_text(app)
        await pilot.press("f5")
        await until(pilot, lambda: "SELECT 1" in log_text(app))
        await app.run_action("toggle_help")  # `?` itself would be typed into the editor
        await until(pilot, lambda: bool(app.screen.query(HelpPanel)))
        assert "- **f5** Run the statement under the cursor" in screen.HELP
        assert "ctrl+j" not in screen.HELP


def test_keymap_entries_are_checked(tmp_path: Path) -> None:
    """A keymap value that is not keys, or an id no key has, is a one-line config error
    naming the entry (exit 2 from the command line)."""
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\n"query.run" = 5\n')
    with pytest.raises(ConfigError, match=r"keymap\.query\.run: expected keys"):
        load_config(config)
    assert "query.run" in binding_ids() and "stack.up" in binding_ids()
    with pytest.raises(ConfigError, match=r"keymap\.query\.runn: .*did you mean query\.run"):
        check_keymap({"query.runn": "f5"})
    config.write_text('[keymap]\n"query.runn" = "f5"\n')
    done = run_cli("--config", str(config), "--stack", "local")
    assert done.returncode == 2 and "keymap.query.runn" in done.stderr
    assert done.stderr.count("\n") == 1


async def test_quit_asks_about_every_sections_unsaved_work(stack: StackUnderTest) -> None:
    """Quitting with pending table edits and an open transaction names both, and `n` keeps
    the studio open; with nothing unsaved it quits at once."""
    from crestfall_tui.modals import ConfirmModal

    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.switch_mode("tables")
        await app.switch_mode("query")
        app.studio.table_pending.insert({"v": "x"})
        # Through the screen's lock, as its own runs go: the screen looks at the idle
        # session's socket between runs, which must not race a statement on it.
        query = app.screen
        assert isinstance(query, QueryScreen)
        async with query.run.lock:
            [e async for e in app.studio.query_session.run_all("begin")]
        await app.run_action("quit")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        question = app.screen.question  # type: ignore[attr-defined]
        assert "Table edits are pending" in question and "A transaction is open" in question
        await pilot.press("n")
        assert app.is_running
        async with query.run.lock:
            [e async for e in app.studio.query_session.run_all("rollback")]
        app.studio.table_pending.reset()
        await app.run_action("quit")
        await until(pilot, lambda: not app.is_running)


@pytest.fixture
def second_database(stack: StackUnderTest) -> Iterator[str]:
    """A database `app2` next to `postgres`, with a table, dropped after."""
    with scratch_database(stack, "app2",
                          "create table things (id int primary key, name text)",
                          "insert into things values (1, 'one'), (2, 'two')"):
        yield "app2"


async def test_switch_database_then_browse_edit_and_query(
        stack: StackUnderTest, second_database: str) -> None:
    """f12 lists the databases; choosing app2 makes Tables browse and edit it and Query run
    in it, the header names it, and the choice is remembered for the stack."""
    import psycopg

    from crestfall_tui.modals import PickerModal
    from crestfall_tui.services.databases import remembered_database
    from tests.drivers import commit, current_grid, edit_cell, open_table

    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, PickerModal))
        await pilot.press(*"app2", "enter")
        await until(pilot, lambda: app.studio.database == "app2")
        assert app.sub_title == "database app2"
        grid = await open_table(pilot, app, "public.things")
        assert grid.rows[0] == ("1", "one")
        await pilot.press("right")
        await edit_cell(pilot, app, "uno")
        await commit(pilot, app)
        await until(pilot, lambda: not app.studio.table_pending)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, QueryScreen))
        app.screen.query_one(TextArea).text = "select current_database() as db"
        await pilot.press("ctrl+j")
        await until(pilot, lambda: "SELECT 1" in log_text(app))
        assert current_grid(app).rows[0] == ("app2",)
    with psycopg.connect(stack.conninfo, dbname="app2") as conn:
        assert conn.execute("select name from things where id = 1").fetchone() == ("uno",)
    assert remembered_database(stack.stack.data_path) == "app2"


def test_query_command_takes_a_database(stack: StackUnderTest, second_database: str) -> None:
    """`query --database app2` reads app2; a database that does not exist is one line."""
    done = stack.cli("query", "--database", "app2", "--format", "csv", "-c",
                     "select current_database() as db, count(*) as n from things")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["db,n", "app2,2"]
    missing = stack.cli("query", "--database", "nope", "-c", "select 1")
    assert missing.returncode == 1
    assert "there is no database 'nope'" in missing.stderr and missing.stderr.count("\n") == 1


async def test_ctrl_q_quits_from_the_editor_too(stack: StackUnderTest) -> None:
    """`q` is typed into the SQL editor, but ctrl+q quits from anywhere (asking first when
    work would be lost)."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.switch_mode("query")
        editor = app.screen.query_one(TextArea)
        editor.focus()
        await pilot.press("q")
        assert editor.text == "q" and app.is_running
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)


async def test_questions_show_text_with_brackets_as_written() -> None:
    """A question, a picker's title, a reader's title and an editor's title that hold
    what Rich would read as markup (a table named `[b]`, an error quoting `[/x]`) show it as
    written; none of them fails."""
    from textual.app import App
    from textual.widgets import Label

    from crestfall_tui.modals import (
        ConfirmModal,
        PickerModal,
        PromptModal,
        TextEditorModal,
        TextModal,
    )

    text = "public.[b]weird[/b] and [/oops] [link=x]"
    for modal in (PromptModal(text), ConfirmModal(text), PickerModal(text, lambda _: []),
                  TextModal(text, "body"), TextEditorModal(text, "{}")):
        app: App[None] = App()
        async with app.run_test() as pilot:
            app.push_screen(modal)
            await pilot.pause()
            shown = str(modal.query(Label).first().render())
            assert "[b]weird[/b] and [/oops] [link=x]" in shown, (type(modal), shown)
