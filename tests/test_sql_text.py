"""Statements found in an editor buffer, and the ones that need a confirmation."""

from __future__ import annotations

from crestfall_tui.services.sql_text import confirmation_reason, split_statements, statement_at

BUFFER = """-- header comment
select 1;
  delete from t;  update t set a = 1 where b = 2; /* note */
drop table x; truncate t; alter table t drop column c;
create function f() returns int language sql as $$ select 1; select 2 $$;
with x as (select ';' as s) select * from x -- tail
"""


def test_split_keeps_spans_kinds_and_quoted_semicolons() -> None:
    """Each statement's text is exactly its span in the buffer; ; inside quotes stays."""
    found = split_statements(BUFFER)
    assert [s.kind for s in found] == ["SELECT", "DELETE", "UPDATE", "DROP", "TRUNCATE",
                                       "ALTER", "CREATE", "SELECT"]
    for statement in found:
        assert BUFFER[statement.start:statement.end] == statement.text
    assert found[6].text.endswith("$$ select 1; select 2 $$")
    assert found[7].text == "with x as (select ';' as s) select * from x"
    assert [s.streams for s in found] == [True, False, False, False, False, False, False, True]


def test_statement_under_the_cursor() -> None:
    """The cursor inside a statement, or just after it, picks that statement."""
    position = BUFFER.index("where b")
    assert statement_at(BUFFER, position).kind == "UPDATE"  # type: ignore[union-attr]
    after_drop = BUFFER.index("drop table x;") + len("drop table x;")
    assert statement_at(BUFFER, after_drop).kind == "DROP"  # type: ignore[union-attr]
    assert statement_at("", 0) is None


def test_guards_flag_what_destroys_data() -> None:
    """DELETE/UPDATE without WHERE, DROP, TRUNCATE and ALTER ... DROP ask first; others not."""
    reasons = [confirmation_reason(s) for s in split_statements(BUFFER)]
    assert reasons[0] is None and reasons[2] is None and reasons[7] is None
    assert reasons[1] is not None and "without WHERE" in reasons[1]
    assert reasons[3] is not None and reasons[4] is not None and reasons[5] is not None
    assert confirmation_reason(split_statements("update t set a = 1")[0]) is not None


def test_toggle_comment_both_ways() -> None:
    """Lines get `-- ` at their common indent; commented lines get it taken off again."""
    from crestfall_tui.services.sql_text import toggle_comment

    lines = ["  select 1,", "", "    2"]
    commented = toggle_comment(lines)
    assert commented == ["  -- select 1,", "", "  --   2"]
    assert toggle_comment(commented) == lines
    assert toggle_comment(["--x", "  -- y"]) == ["x", "  y"]


def test_a_script_reads_copy_data_and_meta_commands_however_the_input_is_cut() -> None:
    """As psql reads a script (`script=True`): the lines after `COPY ... FROM STDIN;` up to
    `\\.` (CRLF too) are its data, SQL-looking lines included; a line starting with a
    backslash where a statement would start is a meta-command; the statements after are
    found as before, with their lines; the same whether the input comes whole or a line
    at a time. The input's end ends data that has no `\\.`."""
    from crestfall_tui.services.sql_text import CopyData, MetaCommand, StatementReader

    script = ("\\restrict AbC123\nset x = 1;\n"
              "COPY public.t (a, b) FROM stdin; -- rest of the line\n"
              "1\tselect 'not; a statement\n2\t\\N\r\n\\.\r\n\n  -- a comment\n"
              "select 2;\ncopy t from stdin;\n3\tlast")

    def read(pieces: list[str]) -> list[object]:
        reader = StatementReader(script=True)
        found: list[object] = []
        for piece in pieces:
            found += reader.feed(piece)
        return found + reader.feed("", final=True)

    def joined(found: list[object]) -> list[object]:
        """Data pieces of one COPY joined (how many pieces depends on the cuts)."""
        out: list[object] = []
        for item in found:
            if isinstance(item, CopyData) and out and isinstance(out[-1], CopyData) \
                    and not out[-1].last:
                out[-1] = CopyData(out[-1].text + item.text, item.last)
            else:
                out.append(item)
        return out

    whole = joined(read([script]))
    assert joined(read(script.splitlines(keepends=True))) == whole  # whole lines, as fed
    texts = [(type(i).__name__, getattr(i, "text", None), getattr(i, "line", None))
             for i in whole]
    assert texts == [
        ("MetaCommand", "\\restrict AbC123", 1),
        ("Statement", "set x = 1", 2),
        ("Statement", "COPY public.t (a, b) FROM stdin", 3),
        ("CopyData", "1\tselect 'not; a statement\n2\t\\N\r\n", None),
        ("Statement", "select 2", 9),
        ("Statement", "copy t from stdin", 10),
        ("CopyData", "3\tlast\n", None)]
    assert [i.last for i in whole if isinstance(i, CopyData)] == [True, True]
    assert isinstance(whole[0], MetaCommand) and whole[0].name == "restrict"
    # Not as a script (the editor's buffers), nothing is data or a meta-command.
    assert all(type(i).__name__ == "Statement"
               for i in StatementReader().feed(script, final=True))
