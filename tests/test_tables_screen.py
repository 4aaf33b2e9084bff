"""The Tables screen driven by keys (Pilot) against the real Postgres."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace
from pathlib import Path

import psycopg
from psycopg import sql
from rich.console import Console
from textual.widgets import Input, Label, Static, TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.modals import ConfirmModal
from crestfall_tui.modals.reading import TextModal
from crestfall_tui.screens import TablesScreen
from crestfall_tui.screens.tables.cell_editor import CellEditorModal
from crestfall_tui.screens.tables.conflict import ConflictModal
from tests.drivers import (
    commit,
    current_grid,
    edit_cell,
    grid,
    open_query,
    open_table,
    title,
    until,
)
from tests.helpers import StackUnderTest, insert_auth_user


async def test_browse_a_big_table_a_window_at_a_time(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """End shows the last rows, Home the first; scrolling fetches more and the window never
    holds the whole table."""
    db.execute("create table big (id int primary key, v text)")
    db.execute("insert into big select g, 'v' || g from generate_series(1, 5000) g")
    db.execute("analyze big")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.big")
        assert table.rows[0] == ("1", "v1") and table.types[0] == "integer"
        await until(pilot, lambda: "~5,000 rows (estimated)" in title(app))
        await pilot.press("end")
        await until(pilot, lambda: table.rows[-1] == ("5000", "v5000"))
        assert len(table.window) <= 1000 and table.at_end and not table.at_start
        await pilot.press("home")
        await until(pilot, lambda: table.rows[0] == ("1", "v1") and table.cursor_row == 0)
        for _ in range(40):
            await pilot.press("pagedown")
        await until(pilot, lambda: table.position is not None and table.position > 900)
        ids = [int(row.values[0] or 0) for row in table.window]
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # nothing skipped or repeated
        assert f"row {table.position:,}" in title(app)
        await pilot.press("g")
        await pilot.press(*"4321", "enter")
        await until(pilot, lambda: table.rows[table.cursor_row][0] == "4321")


async def test_edit_cells_with_typed_editors_and_commit(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """A refused value keeps the editor open with the reason and the text; a good one is
    pending (coloured) until ctrl+s; JSON is checked; booleans toggle; enums pick."""
    db.execute("create type mood as enum ('calm', 'busy')")
    db.execute("create table things (id int primary key, n int, meta jsonb, ok bool, m mood)")
    db.execute("insert into things values (1, 10, '{}', false, 'calm'), (2, 20, null, true, "
               "'busy')")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.things")
        await pilot.press("right", "enter")
        await until(pilot, lambda: isinstance(app.screen, CellEditorModal))
        await pilot.press("end", *"999999999", "enter")
        await until(pilot, lambda: "out of range" in str(
            app.screen.query_one("#editor-error", Label).render()))
        assert app.screen.query_one(Input).value == "10999999999"  # nothing typed is lost
        app.screen.query_one(Input).value = "11"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TablesScreen))
        assert table.rows[0][1] == "11" and table.marks(0)[1] == {1: "table-grid--changed"}
        await pilot.press("right", "enter")
        await until(pilot, lambda: isinstance(app.screen, CellEditorModal))
        app.screen.query_one(TextArea).text = '{"a": [1, 2'
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "not valid JSON" in str(
            app.screen.query_one("#editor-error", Label).render()))
        app.screen.query_one(TextArea).text = '{"a": [1, 2]}'
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, TablesScreen))
        await pilot.press("right", "enter")  # the boolean toggles in place
        await pilot.press("right", "enter")
        await until(pilot, lambda: isinstance(app.screen, CellEditorModal))
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, TablesScreen))
        assert "pending: 1 changed" in title(app)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, TextModal))
        review = app.screen.query_one(TextArea).text
        assert review.startswith("BEGIN;\nUPDATE") and "xmin = %s" in review
        await pilot.press("escape")
        await commit(pilot, app)
        await until(pilot, lambda: not app.studio.table_pending)
        assert db.execute("select n, meta, ok, m::text from things where id = 1").fetchone() \
            == (11, {"a": [1, 2]}, True, "busy")
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, TextModal))
        assert "UPDATE" in app.screen.query_one(TextArea).text


async def test_insert_delete_undo_and_null(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """o adds a row through the form (blank takes the default), d marks a row, u undoes,
    n sets NULL; the commit does exactly what the grid showed."""
    db.execute("create table items (id serial primary key, name text not null, "
               "qty int default 7)")
    db.execute("insert into items (name) values ('a'), ('b'), ('c')")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.items")
        await pilot.press("o")
        await until(pilot, lambda: app.screen.query(Input).first().has_focus)
        await pilot.press("enter", *"new", "enter", "enter")  # id default, name, qty default
        await until(pilot, lambda: isinstance(app.screen, TablesScreen))
        assert table.rows[0] == ("DEFAULT", "new", "DEFAULT")
        assert table.marks(0)[0] == "table-grid--inserted"
        await pilot.press("down", "d", "down", "d")
        assert "2 to delete" in title(app)
        await pilot.press("u")
        assert "1 to delete" in title(app)
        await pilot.press("down", "right", "right", "n")
        await until(pilot, lambda: "1 changed" in title(app))
        await commit(pilot, app)
        await until(pilot, lambda: not app.studio.table_pending)
    assert db.execute("select id, name, qty from items order by id").fetchall() == [
        (2, "b", 7), (3, "c", None), (4, "new", 7)]


async def test_conflict_shows_both_versions_and_keeps_mine_on_request(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """Someone else updates the row after it was read: nothing is written, both versions
    are shown; m applies mine to the current row and the next commit writes it."""
    db.execute("create table acct (id int primary key, note text, balance int)")
    db.execute("insert into acct values (1, 'x', 100)")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.acct")
        await pilot.press("right", "right")
        await edit_cell(pilot, app, "90")
        db.execute("update acct set note = 'theirs' where id = 1")
        await commit(pilot, app)
        await until(pilot, lambda: isinstance(app.screen, ConflictModal))
        assert db.execute("select note, balance from acct").fetchone() == ("theirs", 100)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, TablesScreen))
        await commit(pilot, app)
        await until(pilot, lambda: not app.studio.table_pending)
        await until(pilot, lambda: table.rows[0] == ("1", "theirs", "90"))
    assert db.execute("select note, balance from acct").fetchone() == ("theirs", 90)


async def test_read_only_hides_edit_keys_and_writes_nothing(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """A read-only stack: the edit keys are gone from the footer and do nothing."""
    db.execute("create table ro (id int primary key, v text)")
    db.execute("insert into ro values (1, 'x')")
    app = CrestfallApp(replace(stack.stack, read_only=True), stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_table(pilot, app, f"{schema}.ro")
        assert "read-only" in str(app.screen.query_one("#tables-warning").render())
        active = {binding.action for _, binding, enabled, _ in
                  app.screen.active_bindings.values() if enabled}
        assert "edit_cell" not in {a.split(".")[-1] for a in active} and "commit" not in active
        await pilot.press("enter", "d", "o")
        assert not app.studio.table_pending and isinstance(app.screen, TablesScreen)


async def test_sort_filter_and_foreign_keys_by_keys(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """s sorts (again: descending), = keeps rows like this cell, j follows a foreign key,
    backspace comes back, J lists the rows that point here."""
    db.execute("create table owners (id int primary key, name text)")
    db.execute("create table pets (id int primary key, owner int references owners, "
               "kind text)")
    db.execute("insert into owners values (1, 'ann'), (2, 'bo')")
    db.execute("insert into pets values (1, 2, 'cat'), (2, 1, 'dog'), (3, 2, 'eel')")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.pets")
        await pilot.press("right", "right", "s", "s")
        await until(pilot, lambda: [r[2] for r in table.rows] == ["eel", "dog", "cat"])
        await pilot.press("left", "=")
        await until(pilot, lambda: [r[2] for r in table.rows] == ["eel", "cat"])
        assert "where owner = 2" in title(app)
        await pilot.press("j")
        await until(pilot, lambda: title(app).startswith(f"{schema}.owners")
                    and grid(app).rows == [("2", "bo")])
        await pilot.press("backspace")
        await until(pilot, lambda: title(app).startswith(f"{schema}.pets"))
        await pilot.press("backspace")  # nothing further back: stays
        await pilot.press("f2")
        await until(pilot, lambda: grid(app).rows != [])
        await open_table(pilot, app, f"{schema}.owners")
        await pilot.press("J")
        await pilot.press("enter")
        await until(pilot, lambda: title(app).startswith(f"{schema}.pets")
                    and [r[0] for r in grid(app).rows] == ["2"])


async def test_view_as_an_auth_user_and_export(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]], schema: str,
        tmp_path: Path) -> None:
    """a: as an auth user only their rows show (RLS); E exports what is shown."""
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    insert_auth_user(db, f"{me}@x.test", me)
    db.execute("create table notes (id int primary key, owner uuid, body text)")
    db.execute("alter table notes enable row level security")
    db.execute("create policy mine on notes to authenticated using (owner = auth.uid())")
    db.execute(sql.SQL("grant usage on schema {} to authenticated").format(
        sql.Identifier(schema)))
    db.execute("grant select on notes to authenticated")
    db.execute("insert into notes values (1, %s, 'mine'), (2, %s, 'theirs')", (me, other))
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.notes")
        assert len(table.rows) == 2
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen.focused, Input))
        app.screen.query_one(Input).value = f"{me}@x.test"
        await pilot.press("enter")
        await until(pilot, lambda: [r[2] for r in grid(app).rows] == ["mine"])
        assert "as " in title(app)
        target = tmp_path / "notes.jsonl"
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen.focused, Input))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: target.exists())
    assert target.read_text().count("\n") == 1 and '"mine"' in target.read_text()
    db.execute("delete from auth.users where id = %s", (me,))


async def test_import_a_csv_by_keys_with_a_remapped_column(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]], schema: str,
        tmp_path: Path) -> None:
    """I, the file, enter on a CSV column to map it, l: the rows are in; a bad file names
    its line and loads nothing."""
    from crestfall_tui.screens.tables.csv_import import ImportModal

    db.execute("create table target (id int primary key, label text)")
    db.execute("insert into target values (0, 'zero')")
    good = tmp_path / "good.csv"
    good.write_text("id,title\n1,one\n2,\"two, too\"\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,label\n3,x\nfour,y\n")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.target")
        await pilot.press("I")
        await until(pilot, lambda: isinstance(app.screen.focused, Input))
        app.screen.query_one(Input).value = str(good)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ImportModal))
        assert "goes to no column" in str(app.screen.query_one("#import-problems").render())
        await pilot.press("l")  # refused while a column goes nowhere
        assert isinstance(app.screen, ImportModal)
        await pilot.press("down", "enter")
        await until(pilot, lambda: not isinstance(app.screen, ImportModal))
        await pilot.press(*"label", "enter")
        await until(pilot, lambda: isinstance(app.screen, ImportModal))
        await pilot.press("l")
        await until(pilot, lambda: len(table.rows) == 3)
        assert table.rows[2] == ("2", "two, too")
        await pilot.press("I")
        await until(pilot, lambda: isinstance(app.screen.focused, Input))
        app.screen.query_one(Input).value = str(bad)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ImportModal))
        await pilot.press("l")
        await until(pilot, lambda: any("line 3" in n.message and "nothing was loaded"
                                       in n.message for n in app._notifications))
    assert db.execute("select count(*) from target").fetchone() == (3,)


async def test_a_failed_commit_marks_the_row_and_keeps_every_change(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """A check constraint refuses one change: nothing is written, the row is marked with
    Postgres's reason, both changes stay pending; fixing it commits both."""
    db.execute("create table limits (id int primary key, n int check (n < 100))")
    db.execute("insert into limits values (1, 1), (2, 2)")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.limits")
        for value in ("5", "500"):
            await pilot.press("right")
            await edit_cell(pilot, app, value)
            await pilot.press("left", "down")
        await commit(pilot, app)
        await until(pilot, lambda: table.marks(1)[0] == "table-grid--error")
        assert table.cursor_row == 1 and "limits_n_check" in str(
            app.screen.query_one("#tables-warning").render())
        assert len(app.studio.table_pending) == 2
        assert db.execute("select n from limits order by id").fetchall() == [(1,), (2,)]
        await pilot.press("right")
        await edit_cell(pilot, app, "50")
        await commit(pilot, app)
        await until(pilot, lambda: not app.studio.table_pending)
    assert db.execute("select n from limits order by id").fetchall() == [(5,), (50,)]


async def test_no_key_tables_warn_and_join_views_are_read_only(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """A table without a primary key says how rows are found; a join view says why it
    cannot be edited, and its edit keys do nothing."""
    db.execute("create table loose (v text)")
    db.execute("insert into loose values ('a'), ('a')")
    db.execute("create view pairs as select a.v, b.v as w from loose a cross join loose b")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_table(pilot, app, f"{schema}.loose")
        assert "ctid" in str(app.screen.query_one("#tables-warning").render())
        await pilot.press("d")
        assert "1 to delete" in title(app)
        await commit(pilot, app)
        await until(pilot, lambda: len(grid(app).rows) == 1)
        await open_table(pilot, app, f"{schema}.pairs")
        assert "not updatable" in str(app.screen.query_one("#tables-warning").render())
        await pilot.press("enter", "d", "o")
        assert not app.studio.table_pending and isinstance(app.screen, TablesScreen)
    assert db.execute("select count(*) from loose").fetchone() == (1,)


async def test_hostile_names_open_and_edit_by_keys(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """A table and columns named with quotes, a semicolon, a % and a reserved word."""
    db.execute('create table "we""ird; 50% tab" ("Select" int primary key, "ünï code" text)')
    db.execute('insert into "we""ird; 50% tab" values (1, \'x\')')
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f'{schema}.we"ird; 50% tab')
        assert table.columns == ["Select", "ünï code"]
        await pilot.press("right")
        await edit_cell(pilot, app, "y'; drop table x; --")
        await commit(pilot, app)
        await until(pilot, lambda: not app.studio.table_pending)
    assert db.execute('select "ünï code" from "we""ird; 50% tab"').fetchone() == (
        "y'; drop table x; --",)


async def test_database_down_is_a_message_not_a_crash(tmp_path: Path) -> None:
    """F2 on a stack whose Postgres does not answer (a remote stack, so nothing tries to
    start it): a notification says so, and the screen stays."""
    from crestfall_tui.config import RemoteEndpoints, StackConfig
    from crestfall_tui.stack.processes import free_port
    from crestfall_tui.stack.remote import RemoteRuntime

    config = StackConfig(name="gone", runtime="remote", data_dir=str(tmp_path),
                         remote=RemoteEndpoints(
                             db_url=f"postgresql://postgres:pw@127.0.0.1:{free_port()}/x"))
    app = CrestfallApp(config, RemoteRuntime(config))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f2")
        await until(pilot, lambda: any("refused the connection" in n.message
                                       for n in app._notifications))
        assert isinstance(app.screen, TablesScreen)


async def test_details_panel_and_reverting_cells_and_rows(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """i shows columns, key, indexes and RLS policies; x reverts a cell, X a row, D sets
    DEFAULT."""
    db.execute("create table detailed (id int primary key, v text default 'dflt', w text)")
    db.execute("create index detailed_w on detailed (w)")
    db.execute("alter table detailed enable row level security")
    db.execute("create policy open_read on detailed for select using (true)")
    db.execute("insert into detailed values (1, 'a', 'b')")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(160, 40)) as pilot:
        table = await open_table(pilot, app, f"{schema}.detailed")
        await pilot.press("i")
        details = app.screen.query_one("#details-text", Static)

        def shown() -> str:
            console = Console(width=200, record=True, file=io.StringIO())
            console.print(details.content)
            return console.export_text()

        await until(pilot, lambda: details.parent is not None and details.parent.display
                    and "detailed_w" in shown())
        text = shown()
        assert "open_read" in text and "row level security" in text and "'dflt'" in text
        await pilot.press("right", "D", "right", "n")
        assert table.rows[0] == ("1", "DEFAULT", None) and "1 changed" in title(app)
        await pilot.press("x")
        assert table.rows[0] == ("1", "DEFAULT", "b")
        await pilot.press("X")
        assert table.rows[0] == ("1", "a", "b") and not app.studio.table_pending
        await pilot.press("left", "D")
        await commit(pilot, app)
        await until(pilot, lambda: not app.studio.table_pending)
    assert db.execute("select v from detailed").fetchone() == ("dflt",)


async def test_quitting_with_pending_edits_asks_first(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """q with an edit pending asks; n keeps the studio and the edit; switching tables asks
    too, and nothing is written either way."""
    db.execute("create table unsaved (id int primary key, v text)")
    db.execute("create table other (id int primary key)")
    db.execute("insert into unsaved values (1, 'x')")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_table(pilot, app, f"{schema}.unsaved")
        await pilot.press("d")
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "pending" in str(app.screen.query_one(Label).render())
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, TablesScreen))
        assert len(app.studio.table_pending) == 1
        await pilot.press("slash", "ctrl+u", *f"{schema}.other", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, TablesScreen))
        assert len(app.studio.table_pending) == 1 and title(app).startswith(f"{schema}.unsaved")
    assert db.execute("select count(*) from unsaved").fetchone() == (1,)


async def test_structured_filter_by_keys(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """f: pick the column, the operator, type the value; filters add up; F clears them."""
    db.execute("create table ages (id int primary key, age int)")
    db.execute("insert into ages values (1, 30), (2, null), (3, 41), (4, 50)")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.ages")

        async def add_filter(column: str, operator: str, value: str | None) -> None:
            await pilot.press("f")
            await until(pilot, lambda: isinstance(app.screen.focused, Input))
            await pilot.press(*column, "enter")
            await until(pilot, lambda: "operator" in str(app.screen.query_one(Label).render()))
            await pilot.press(*operator, "enter")
            if value is not None:
                await until(pilot, lambda: f"{column} {operator}" in str(
                    app.screen.query_one(Label).render()))
                await pilot.press(*value, "enter")
            await until(pilot, lambda: isinstance(app.screen, TablesScreen))

        await add_filter("age", "in", "30, 41, 50")
        await until(pilot, lambda: [r[0] for r in table.rows] == ["1", "3", "4"])
        await add_filter("age", ">=", "41")
        await until(pilot, lambda: [r[0] for r in table.rows] == ["3", "4"])
        assert "where age in 30, 41, 50 and age >= 41" in title(app)
        await pilot.press("F")
        await until(pilot, lambda: len(table.rows) == 4)
        await add_filter("age", "is null", None)
        await until(pilot, lambda: [r[0] for r in table.rows] == ["2"])


async def test_duplicate_a_row_count_exactly_and_miss_a_key(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """O fills the form with the row's values (not its serial key); c counts exactly; g to
    a key that is not there says so and leaves the rows as they were."""
    db.execute("create table copies (id serial primary key, name text, qty int)")
    db.execute("insert into copies (name, qty) select 'n' || g, g from generate_series(1, 300) g")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.copies")
        await pilot.press("O")
        await until(pilot, lambda: app.screen.query(Input).first().has_focus)
        assert [field.value for field in app.screen.query(Input)] == ["", "n1", "1"]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, TablesScreen))
        assert table.rows[0] == ("DEFAULT", "n1", "1") and "1 new" in title(app)
        await pilot.press("c")
        await until(pilot, lambda: "300 rows ·" in title(app))
        await pilot.press("g", *"999", "enter")
        await until(pilot, lambda: any("no row where id = 999" in n.message
                                       for n in app._notifications))
        assert table.rows[1] == ("1", "n1", "1")
        await commit(pilot, app)
        await until(pilot, lambda: not app.studio.table_pending)
    assert db.execute("select count(*) from copies where name = 'n1'").fetchone() == (2,)


async def test_view_as_then_back_to_the_superuser(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]]) -> None:
    """`a` with anon, then `a` with the answer emptied: the rows are read as the superuser
    again and the title no longer says "as anon"."""
    name = f"seen_{uuid.uuid4().hex[:8]}"
    db.execute(f"create table public.{name} (id int primary key)")
    db.execute(f"insert into public.{name} values (1)")
    app = CrestfallApp(stack.stack, stack.runtime)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await open_table(pilot, app, f"public.{name}")
            for answer in ("anon", ""):
                await pilot.press("a")
                await until(pilot, lambda: bool(app.screen.query(Input)))
                app.screen.query_one(Input).value = answer
                await pilot.press("enter")
                await until(pilot,
                            lambda a=answer: ("as anon" in title(app)) == (a == "anon"))
            assert app.studio.table_session.run_as is None
            await until(pilot, lambda: grid(app).rows == [("1",)])
    finally:
        db.execute(f"drop table public.{name}")


async def test_the_row_form_says_a_trigger_may_fill_a_required_column(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """A NOT NULL column without a default is "required" in the new-row form, unless a
    BEFORE INSERT row trigger may fill it: then the form says which trigger, and a row left
    blank there is added (the trigger fills it at commit)."""
    from crestfall_tui.screens.tables.row_form import RowFormModal

    db.execute("create table stamped (id int primary key, slug text not null)")
    db.execute("create function fill_slug() returns trigger language plpgsql as $$ "
               "begin new.slug := coalesce(new.slug, 'slug-' || new.id); return new; end $$")
    db.execute("create trigger stamp before insert on stamped for each row "
               "execute function fill_slug()")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        db.execute("insert into stamped (id) values (1)")
        await open_table(pilot, app, f"{schema}.stamped")
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, RowFormModal))
        hints = [field.placeholder for field in app.screen.query(Input)]
        assert hints == ["required, unless trigger stamp fills it"] * 2
        await pilot.press(*"2", "enter", "enter")
        await until(pilot, lambda: isinstance(app.screen, TablesScreen))
        await commit(pilot, app)
        await until(pilot, lambda: not app.studio.table_pending)
    assert db.execute("select slug from stamped where id = 2").fetchone() == ("slug-2",)


async def test_the_last_row_is_drawn_above_the_horizontal_scrollbar(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """A table wider than the screen has a horizontal scrollbar: after `end` the last row
    is drawn above it, not under it; in the Query grid too."""
    columns = ", ".join(f"c{n} text default repeat('w', 30)" for n in range(12))
    db.execute(f"create table wide (id int primary key, mark text, {columns})")
    db.execute("insert into wide (id, mark) select g, 'zz' || g from generate_series(1, 300) g")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await open_table(pilot, app, f"{schema}.wide")
        await pilot.press("end")
        await until(pilot, lambda: table.rows[table.cursor_row][1] == "zz300")
        await pilot.pause()
        assert table.show_horizontal_scrollbar
        assert "zz300" in app.export_screenshot() and "zz299" in app.export_screenshot()
        await open_query(stack, app, f"select * from {schema}.wide order by id")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: current_grid(app).complete)
        result = current_grid(app)
        result.focus()
        await pilot.press("end")
        await until(pilot, lambda: result.cursor_row == 299)
        await pilot.pause()
        assert result.show_horizontal_scrollbar and "zz300" in app.export_screenshot()


async def test_details_leave_the_grid_room_at_80_columns(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """`i` at 80 columns: the details panel takes the tree's place, the grid keeps at least
    30 columns; `i` again brings the tree back."""
    db.execute("create table narrow (id int primary key, name text)")
    db.execute("insert into narrow values (1, 'one')")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await open_table(pilot, app, f"{schema}.narrow")
        await pilot.press("i")
        await pilot.pause()
        assert app.screen.query_one("#details").display
        assert table.size.width >= 30 and not app.screen.query_one("#tables-left").display
        await pilot.press("i")
        await pilot.pause()
        assert app.screen.query_one("#tables-left").display
