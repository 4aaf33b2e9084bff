"""The Query screen driven by keys (Pilot) against the real Postgres."""

from __future__ import annotations

import psycopg
from textual.widgets import TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.modals import ConfirmModal, PromptModal
from crestfall_tui.screens import QueryScreen
from crestfall_tui.widgets import ResultGrid
from crestfall_tui.widgets.query_grid import WINDOW
from crestfall_tui.widgets.result_tabs import ResultTabs
from tests.drivers import current_grid, log_text, open_query, until
from tests.helpers import StackUnderTest


async def test_any_row_of_a_long_result_is_reached_without_reading_the_rest(
        stack: StackUnderTest) -> None:
    """ctrl+j shows the first rows of a 2,000,000-row result; `end` reaches the last row
    (the server counts them, none of the rest is sent), `g` any row, `home` the first; the
    grid never holds more than a window, and says "row N of M"; NULL stays NULL."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app,
                         "select g, null::text as n from generate_series(1, 2000000) g")
        assert isinstance(app.screen, QueryScreen)
        await pilot.press("ctrl+j")
        await until(pilot, lambda: current_grid(app).row_count >= 100)
        grid = current_grid(app)
        assert grid.columns == ["g", "n"] and grid.rows[0] == ("1", None)
        assert not grid.complete  # the rest waits on the server
        grid.focus()
        await pilot.press("end")
        await until(pilot, lambda: grid.row_at(grid.cursor_row) == ("2000000", None))
        assert grid.cursor_row == 1999999 and len(grid.rows) <= WINDOW
        results = app.screen.query_one(ResultTabs)
        await until(pilot, lambda: results.border_subtitle == "row 2,000,000 of 2,000,000")
        await pilot.press("up", "up")
        await until(pilot, lambda: grid.row_at(grid.cursor_row) == ("1999998", None))
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press(*"1234567", "enter")
        await until(pilot, lambda: grid.row_at(grid.cursor_row) == ("1234567", None))
        for _ in range(30):
            await pilot.press("pagedown")
        await until(pilot, lambda: grid.row_at(grid.cursor_row) is not None)
        window = [int(str(row[0])) for row in grid.rows]
        assert window == list(range(window[0], window[0] + len(window)))  # no gap, no repeat
        assert grid.row_at(grid.cursor_row) == (str(grid.cursor_row + 1), None)
        await pilot.press("home")
        await until(pilot, lambda: grid.row_at(grid.cursor_row) == ("1", None))
        assert grid.cursor_row == 0 and len(grid.rows) <= WINDOW


async def test_error_is_shown_and_selected_in_the_editor(stack: StackUnderTest) -> None:
    """An error shows message and hint; the editor selects the word it points at."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select 1;\nselect relnam from pg_class")
        editor = app.screen.query_one(TextArea)
        editor.move_cursor((1, 3))
        await pilot.press("ctrl+j")
        await until(pilot, lambda: "ERROR" in log_text(app))
        assert 'column "relnam" does not exist' in log_text(app)
        assert "HINT" in log_text(app)
        assert editor.selected_text == "relnam"


async def test_destructive_statement_asks_first(stack: StackUnderTest) -> None:
    """DELETE without WHERE asks: n leaves the rows; y deletes them."""
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        conn.execute("drop table if exists guarded; create table guarded (v int); "
                     "insert into guarded values (1), (2)")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "delete from guarded")
        await pilot.press("ctrl+j")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await app.workers.wait_for_complete()
        with psycopg.connect(stack.conninfo) as conn:
            assert conn.execute("select count(*) from guarded").fetchone() == (2,)
        await pilot.press("ctrl+j")
        await pilot.press("y")
        await until(pilot, lambda: "DELETE 2" in log_text(app))


async def test_escape_cancels_and_the_session_goes_on(stack: StackUnderTest) -> None:
    """A long statement is cancelled with escape; the next one runs on the same session."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select pg_sleep(30)")
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        await pilot.press("ctrl+j")
        await until(pilot, lambda: screen.running)
        await until(pilot, lambda: _sleeping(stack))  # on the server, so there is a cancel
        await pilot.press("escape")
        await until(pilot, lambda: "canceling statement" in log_text(app), within=10)
        assert not screen.running
        screen.query_one(TextArea).text = "select 'after' as a"
        await pilot.press("ctrl+j")
        await until(pilot, lambda: current_grid(app).rows == [("after",)])


async def test_open_and_copy_cells(stack: StackUnderTest) -> None:
    """enter opens a cell in full (JSON pretty-printed); y copies a cell, Y the row."""
    from crestfall_tui.modals.cell import CellModal

    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, """select '{"a": [1, 2]}'::jsonb as j, 'x' as t""")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: current_grid(app).complete
                    and current_grid(app).row_count == 1)
        grid = current_grid(app)
        grid.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, CellModal)
        assert app.screen.text == '{\n  "a": [\n    1,\n    2\n  ]\n}'
        await pilot.press("escape")
        await pilot.press("right", "y")
        assert app.clipboard == "x"
        await pilot.press("Y")
        assert app.clipboard == '{"a": [1, 2]}\tx'


async def test_comment_toggle_by_keys(stack: StackUnderTest) -> None:
    """ctrl+/ (sent by terminals as ctrl+_) comments the selected lines out and back in."""
    from textual.widgets.text_area import Selection

    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select 1;\nselect 2;\nselect 3;")
        editor = app.screen.query_one(TextArea)
        editor.selection = Selection((0, 2), (1, 3))
        await pilot.press("ctrl+underscore")
        assert editor.text == "-- select 1;\n-- select 2;\nselect 3;"
        editor.selection = Selection((0, 0), (1, 0))
        await pilot.press("ctrl+underscore")
        assert editor.text == "select 1;\nselect 2;\nselect 3;"


async def test_manual_transactions(stack: StackUnderTest) -> None:
    """ctrl+t: writes wait for ctrl+o (commit) or vanish with ctrl+b; quit asks while open."""
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        conn.execute("drop table if exists txn_t; create table txn_t (v int)")

    def committed() -> int:
        with psycopg.connect(stack.conninfo) as conn:
            row = conn.execute("select count(*) from txn_t").fetchone()
            return int(row[0]) if row else -1

    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "insert into txn_t values (1)")
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        await pilot.press("ctrl+t")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: "INSERT 0 1" in log_text(app))
        assert screen.session.in_transaction and committed() == 0
        assert "TRANSACTION OPEN" in str(screen.query_one(TextArea).border_subtitle)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: committed() == 1)
        await pilot.press("ctrl+j")
        await until(pilot, lambda: screen.session.in_transaction)
        await pilot.press("ctrl+b")
        await until(pilot, lambda: not screen.session.in_transaction)
        assert committed() == 1
        await pilot.press("ctrl+j")
        await until(pilot, lambda: screen.session.in_transaction)
        await app.run_action("quit")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        assert app.is_running
    assert committed() == 1  # leaving the app rolled the open transaction back


async def test_each_statement_gets_its_own_result_tab(stack: StackUnderTest) -> None:
    """f9 on several statements: one tab per result, the last one active; tags in the log."""
    from textual.widgets import TabbedContent

    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select 1 as a; create temp table tabs_t (v int); "
                                     "select 2 as b; select 3 as c")
        await pilot.press("f9")
        await until(pilot, lambda: "SELECT 1" in log_text(app) and not app.screen.running)
        tabs = app.screen.query_one(TabbedContent)
        grids = list(app.screen.query(ResultGrid))
        assert [g.rows for g in grids] == [[("1",)], [("2",)], [("3",)]]
        assert tabs.active == "result-3" and current_grid(app).columns == ["c"]
        assert "CREATE TABLE" in log_text(app)


async def test_editor_keeps_indent_and_marks_the_statement(stack: StackUnderTest) -> None:
    """enter keeps the line's indentation; the title names the statement under the cursor."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select 1;\nselect\n  2,\n  3;\nselect 4;")
        editor = app.screen.query_one(TextArea)
        editor.focus()
        editor.move_cursor((2, 3))
        await until(pilot, lambda: "statement 2 of 3, lines 2-4" in str(editor.border_title))
        editor.move_cursor((4, 0))
        await until(pilot, lambda: "statement 3 of 3, line 5" in str(editor.border_title))
        editor.text = "select a,"
        editor.move_cursor((0, 9))
        await pilot.press("enter", "space", "space", "b", "enter", "c")
        assert editor.text == "select a,\n  b\n  c"


async def test_buffers_keep_their_own_text_cursor_and_results(stack: StackUnderTest) -> None:
    """alt+n opens an empty buffer in a new tab; each buffer runs its own SQL; alt+left
    brings the first back as it was; alt+w closes one (asking, since it holds text)."""
    from textual.widgets import Tabs

    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select 'first buffer' as b")
        editor = app.screen.query_one(TextArea)
        editor.move_cursor((0, 7))
        await pilot.press("alt+n")
        tabs = app.screen.query_one("#buffers", Tabs)
        assert editor.text == "" and tabs.tab_count == 2
        await pilot.press(*"select 'second' as b")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: current_grid(app).rows == [("second",)])
        await pilot.press("alt+left")
        assert editor.text == "select 'first buffer' as b" and editor.cursor_location == (0, 7)
        assert tabs.active == "buffer-1"
        await pilot.press("ctrl+j")
        await until(pilot, lambda: current_grid(app).rows == [("first buffer",)])
        await pilot.press("alt+right")
        assert editor.text == "select 'second' as b"
        await pilot.press("alt+w")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: tabs.tab_count == 1)
        assert editor.text == "select 'first buffer' as b"
        await pilot.press("alt+w")  # the last buffer stays
        assert tabs.tab_count == 1 and not isinstance(app.screen, ConfirmModal)


async def test_statement_under_the_cursor_is_marked_in_the_gutter(
        stack: StackUnderTest) -> None:
    """Moving into a statement marks its lines' numbers, and only those."""
    from crestfall_tui.widgets import SqlEditor

    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select 1;\nselect\n  2;\nselect 3")
        editor = app.screen.query_one(SqlEditor)
        editor.move_cursor((2, 1))
        await until(pilot, lambda: editor.statement_lines == (1, 2))
        assert "lines 2-3" in str(editor.border_title)

        def gutter_style(line: int) -> object:
            segment = next(iter(editor.render_line(line).crop(0, editor.gutter_width)))
            return segment.style.bgcolor if segment.style else None

        assert gutter_style(1) == gutter_style(2) != gutter_style(0) == gutter_style(3)
        editor.move_cursor((3, 3))
        await until(pilot, lambda: editor.statement_lines == (3, 3))


async def test_clicking_a_buffer_tab_shows_that_buffer(stack: StackUnderTest) -> None:
    """A click on another buffer's tab keeps the shown one's text and shows the other's."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select 1 as first")
        await pilot.press("alt+n")
        editor = app.screen.query_one(TextArea)
        await until(pilot, lambda: editor.text == "")
        editor.text = "select 2 as second"
        await pilot.click("#buffer-1")
        await until(pilot, lambda: editor.text == "select 1 as first")
        await pilot.click("#buffer-2")
        await until(pilot, lambda: editor.text == "select 2 as second")


async def test_values_show_as_postgres_writes_them(
        stack: StackUnderTest, db: psycopg.Connection[tuple[object, ...]],
        schema: str) -> None:
    """Intervals, a JSON null (apart from SQL NULL), arrays, enums and infinite dates show
    as Postgres's own text, and each column's type as Postgres names it."""
    db.execute("create type mood as enum ('calm', 'busy')")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, (
            f"select '1 year 2 mons 3 days 04:05:06'::interval as span, "
            f"'null'::jsonb as json_null, null::jsonb as sql_null, "
            f"array['a', 'b c']::text[] as tags, 'busy'::{schema}.mood as mood, "
            f"'infinity'::date as forever, 1.50::numeric as price"))
        await pilot.press("ctrl+j")
        await until(pilot, lambda: "SELECT 1" in log_text(app))
        grid = current_grid(app)
        assert grid.rows[0] == ("1 year 2 mons 3 days 04:05:06", "null", None,
                                '{a,"b c"}', "busy", "infinity", "1.50")
        assert grid.types == ["interval", "jsonb", "jsonb", "text[]", f"{schema}.mood",
                              "date", "numeric"]


async def test_results_keep_room_at_80x24(stack: StackUnderTest) -> None:
    """At 80x24 the results show at least six rows under the editor (one did, before); at
    200x50 the editor keeps its larger share."""
    for size, rows in (((80, 24), 6), ((200, 50), 15)):
        app = CrestfallApp(stack.stack, stack.runtime)
        async with app.run_test(size=size) as pilot:
            await open_query(stack, app, "select g from generate_series(1, 60) g")
            await pilot.press("ctrl+j")
            await until(pilot, lambda app=app: current_grid(app).complete)
            await pilot.pause()
            grid = current_grid(app)
            assert grid.view_size.height - grid.header_height >= rows, size
            assert app.screen.query_one("#editor").size.height >= 3


def _sleeping(stack: StackUnderTest) -> bool:
    """Whether the server is running the studio's `pg_sleep` (or fetching from the cursor
    it streams through)."""
    import psycopg

    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        row = conn.execute("select count(*) from pg_stat_activity where state = 'active' "
                           "and (query like '%pg_sleep(30)%' or query like "
                           "'FETCH%crestfall_query%') and pid <> pg_backend_pid()").fetchone()
    return bool(row and row[0])
