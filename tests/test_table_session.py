"""The Tables screen's core against the real Postgres: pages, edits, conflicts, roles."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.action_log import ActionLog
from crestfall_tui.services.csv_import import read_plan
from crestfall_tui.services.pending import DEFAULT, PendingChanges
from crestfall_tui.services.run_as import RunAs
from crestfall_tui.services.table_edits import CommitError, Conflict
from crestfall_tui.services.table_session import TableSession
from crestfall_tui.services.table_view import Filter, Row, SortKey, TableView
from tests.helpers import StackUnderTest


@pytest.fixture
async def session(stack: StackUnderTest) -> AsyncIterator[TableSession]:
    opened = TableSession(PostgresClient(stack.runtime.db_url))
    yield opened
    await opened.close()


async def walk(session: TableSession, view: TableView, limit: int,
               backwards: bool = False) -> list[Row]:
    """Every row of the view, a page at a time, from the first (or the last)."""
    rows = await session.page(view, "last" if backwards else "first", limit=limit)
    found = list(rows)
    while rows:
        anchor = rows[0] if backwards else rows[-1]
        rows = await session.page(view, "before" if backwards else "after", anchor, limit)
        found = rows + found if backwards else found + rows
    return found


async def test_composite_key_in_any_column_order_pages_every_row_once(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """Keyset pages on a key declared (b, a), forwards and backwards, give each row once,
    in the order a plain ORDER BY gives, also sorted on a nullable column both ways."""
    db.execute("create table pairs (a int, b text, note text, primary key (b, a))")
    db.execute("insert into pairs select g % 7, 'k' || (g % 13), "
               "case when g % 5 = 0 then null else chr(65 + g % 3) end "
               "from generate_series(1, 91) g")
    table = await session.table(schema, "pairs")
    assert table.primary_key == ("b", "a")
    expected = [tuple(map(str, row)) for row in db.execute(
        "select a, b from pairs order by b, a").fetchall()]
    for backwards in (False, True):
        rows = await walk(session, TableView(table), limit=10, backwards=backwards)
        assert [row.values[:2] for row in rows] == expected
    for sort in [(SortKey("note"),), (SortKey("note", descending=True), SortKey("a"))]:
        view = TableView(table, sort=sort)
        order = ", ".join(f"{s.column} {'desc' if s.descending else 'asc'}" for s in sort)
        want = [row[0] for row in db.execute(
            f"select a || '/' || b from pairs order by {order}, b, a").fetchall()]
        for backwards in (False, True):
            rows = await walk(session, view, limit=9, backwards=backwards)
            assert [f"{r.values[0]}/{r.values[1]}" for r in rows] == want


async def test_table_without_key_pages_by_ctid_and_edits_one_row(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """Identical rows page by ctid; an edit changes exactly the row it was made on."""
    db.execute("create table dupes (v text)")
    db.execute("insert into dupes select 'same' from generate_series(1, 25)")
    table = await session.table(schema, "dupes")
    assert table.addressing == "ctid" and table.warning and "ctid" in table.warning
    rows = await walk(session, TableView(table), limit=4)
    assert len(rows) == 25 and len({row.ctid for row in rows}) == 25
    pending = PendingChanges()
    pending.set_cell(rows[3], "v", "changed", "same")
    pending.toggle_delete(rows[7])
    await session.commit(table, pending)
    assert db.execute("select v, count(*) from dupes group by v order by v").fetchall() == [
        ("changed", 1), ("same", 23)]


async def test_view_pages_and_says_when_it_cannot_be_edited(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """A simple view is updatable and pages by offset; a join view is read-only, with why."""
    db.execute("create table base (id int primary key, name text)")
    db.execute("insert into base select g, 'n' || g from generate_series(1, 30) g")
    db.execute("create view simple as select id, name from base where id > 5")
    db.execute("create view joined as select a.id, b.name from base a join base b using (id)")
    simple = await session.table(schema, "simple")
    joined = await session.table(schema, "joined")
    assert simple.editable and simple.addressing == "values"
    assert not joined.editable and "not updatable" in (joined.read_only_reason or "")
    view = TableView(simple, sort=(SortKey("id"),))
    rows = await walk(session, view, limit=7)
    assert [row.values[0] for row in rows] == [str(i) for i in range(6, 31)]
    assert [row.values[0] for row in await walk(session, view, 7, backwards=True)] == \
        [str(i) for i in range(6, 31)]
    pending = PendingChanges()
    pending.set_cell(rows[0], "name", "through the view", rows[0].values[1])
    await session.commit(simple, pending)
    assert db.execute("select name from base where id = 6").fetchone() == ("through the view",)


async def test_commit_updates_inserts_deletes_in_one_transaction_and_logs(
        db: psycopg.Connection[tuple[object, ...]], schema: str, session: TableSession,
        tmp_path: Path) -> None:
    """One commit: rows touched per statement, the action log has each statement."""
    db.execute("create table items (id serial primary key, name text not null, "
               "qty int default 1, tags text[], meta jsonb, at date)")
    db.execute("insert into items (name) values ('one'), ('two'), ('three')")
    table = await session.table(schema, "items")
    rows = await session.page(TableView(table), "first")
    pending = PendingChanges()
    pending.set_cell(rows[0], "name", "uno", "one")
    pending.set_cell(rows[0], "tags", "{a,\"b c\"}", None)
    pending.set_cell(rows[0], "meta", '{"k": [1, 2]}', None)
    pending.set_cell(rows[0], "at", "2024-02-29", None)
    pending.set_cell(rows[1], "qty", None, "1")
    pending.toggle_delete(rows[2])
    pending.insert({"name": "four", "qty": DEFAULT})
    log = session.log = ActionLog("local", tmp_path)
    done = await session.commit(table, pending)
    assert [rows for _, rows in done] == [1, 1, 1, 1] and not pending
    assert db.execute("select id, name, qty, tags, meta, at::text from items order by id"
                      ).fetchall() == [
        (1, "uno", 1, ["a", "b c"], {"k": [1, 2]}, "2024-02-29"),
        (2, "two", None, None, None, None), (4, "four", 1, None, None, None)]
    actions = log.entries()
    assert len(actions) == 4 and actions[-1].statement.startswith("UPDATE")
    assert '"items"' in actions[-1].statement and "%s" in actions[-1].statement
    assert "uno" in actions[-1].params and actions[0].statement.startswith("INSERT")
    assert {(a.source, a.tag, a.database) for a in actions} == {
        ("tables", "UPDATE 1", "postgres"), ("tables", "DELETE 1", "postgres"),
        ("tables", "INSERT 1", "postgres")}


async def test_a_failing_statement_rolls_back_all_and_keeps_the_changes(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """A constraint violation in the second statement: nothing written, both changes kept,
    the error on the change that caused it."""
    db.execute("create table checked (id int primary key, n int check (n > 0))")
    db.execute("insert into checked values (1, 1), (2, 2)")
    table = await session.table(schema, "checked")
    rows = await session.page(TableView(table), "first")
    pending = PendingChanges()
    pending.set_cell(rows[0], "n", "10", "1")
    pending.set_cell(rows[1], "n", "-5", "2")
    with pytest.raises(CommitError) as failed:
        await session.commit(table, pending)
    assert "checked_n_check" in failed.value.message
    assert len(pending) == 2 and pending.changes[1].error and not pending.changes[0].error
    assert db.execute("select n from checked order by id").fetchall() == [(1,), (2,)]


async def test_a_row_changed_since_it_was_read_is_not_overwritten(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """Another connection updates the row after we read it: conflict, their value stays,
    we get the current row; keeping ours on the current version then commits."""
    db.execute("create table accounts (id int primary key, balance int)")
    db.execute("insert into accounts values (1, 100)")
    table = await session.table(schema, "accounts")
    (row,) = await session.page(TableView(table), "first")
    db.execute("update accounts set balance = 150 where id = 1")
    pending = PendingChanges()
    pending.set_cell(row, "balance", "90", "100")
    with pytest.raises(Conflict) as conflict:
        await session.commit(table, pending)
    assert conflict.value.current is not None and conflict.value.current.values == ("1", "150")
    assert db.execute("select balance from accounts").fetchone() == (150,)
    assert len(pending) == 1
    pending.rebase(pending.changes[0], conflict.value.current)
    await session.commit(table, pending)
    assert db.execute("select balance from accounts").fetchone() == (90,)


async def test_values_are_checked_by_type_before_they_are_accepted(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """Every editor's values: good ones pass, bad ones get Postgres's own reason."""
    db.execute("create type mood as enum ('calm', 'busy')")
    db.execute("create table typed (id int primary key, small int2, big numeric(5,2), "
               "flag bool, meta jsonb, day date, at timestamptz, m mood, nums int[])")
    table = await session.table(schema, "typed")
    assert table.column("m").enum_labels == ("calm", "busy")
    assert table.column("nums").is_array and table.column("day").category == "D"
    good = {"small": "32767", "big": "123.45", "flag": "false", "meta": '{"a": null}',
            "day": "2024-02-29", "at": "2024-01-01 10:00+02", "m": "busy", "nums": "{1,2,3}"}
    for name, text in good.items():
        await session.check_value(table.column(name), text)
    bad = {"small": ("40000", "out of range"), "big": ("x", "invalid input syntax"),
           "flag": ("maybe", "invalid input syntax"), "meta": ("{a:1}", "not valid JSON"),
           "day": ("2023-02-29", "out of range"), "m": ("sleepy", "invalid input value"),
           "nums": ("{1,two}", "invalid input syntax"), "at": ("noon-ish", "invalid input")}
    for name, (text, reason) in bad.items():
        with pytest.raises(CrestfallError) as refused:
            await session.check_value(table.column(name), text)
        assert reason in refused.value.message and name in refused.value.message


async def test_read_only_session_cannot_write_even_if_asked(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        stack: StackUnderTest) -> None:
    """default_transaction_read_only: the database itself refuses; the change is kept."""
    db.execute("create table guarded (id int primary key, v text)")
    db.execute("insert into guarded values (1, 'x')")
    reader = TableSession(stack.runtime.postgres(read_only=True))
    try:
        table = await reader.table(schema, "guarded")
        (row,) = await reader.page(TableView(table), "first")
        pending = PendingChanges()
        pending.set_cell(row, "v", "y", "x")
        with pytest.raises(CommitError) as refused:
            await reader.commit(table, pending)
        assert "read-only transaction" in refused.value.message and len(pending) == 1
    finally:
        await reader.close()
    assert db.execute("select v from guarded").fetchone() == ("x",)


async def test_view_as_role_applies_row_level_security(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """As an auth user, the grid shows only their rows and edits only theirs; anon none."""
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    db.execute("create table notes (id int primary key, owner uuid, body text)")
    db.execute("alter table notes enable row level security")
    db.execute("create policy mine on notes to authenticated "
               "using (owner = auth.uid()) with check (owner = auth.uid())")
    db.execute(sql.SQL("grant usage on schema {} to authenticated, anon").format(
        sql.Identifier(schema)))
    db.execute("grant select, update on notes to authenticated, anon")
    db.execute("insert into notes values (1, %s, 'mine'), (2, %s, 'theirs')", (me, other))
    table = await session.table(schema, "notes")
    assert table.rls_enabled and any(d.kind == "policy" for d in table.details)
    session.run_as = RunAs("authenticated", user_id=me)
    rows = await session.page(TableView(table), "first")
    assert [row.values[2] for row in rows] == ["mine"]
    pending = PendingChanges()
    pending.set_cell(rows[0], "body", "edited as me", "mine")
    await session.commit(table, pending)
    session.run_as = RunAs("anon")
    assert await session.page(TableView(table), "first") == []
    assert db.execute("select body from notes order by id").fetchall() == [
        ("edited as me",), ("theirs",)]


async def test_filters_counts_and_lookup_use_parameters(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """Each operator filters as SQL would; a value with a quote is data, not SQL."""
    db.execute("create table people (id int primary key, name text, age int)")
    db.execute("insert into people values (1, 'Ann', 30), (2, 'o''Brien', null), "
               "(3, 'bob', 41), (4, 'Cy', 30)")
    table = await session.table(schema, "people")

    async def ids(*filters: Filter) -> list[str | None]:
        rows = await session.page(TableView(table, filters=filters), "first")
        return [row.values[0] for row in rows]

    assert await ids(Filter("name", "=", "o'Brien")) == ["2"]
    assert await ids(Filter("age", ">=", "31")) == ["3"]
    assert await ids(Filter("age", "is null")) == ["2"]
    assert await ids(Filter("age", "in", "30, 41")) == ["1", "3", "4"]
    assert await ids(Filter("name", "ilike", "b%")) == ["3"]
    assert await ids(Filter("age", "<>", "30"), Filter("name", "like", "%o%")) == ["3"]
    assert await ids(Filter("name", "=", "x'; drop table people; --")) == []
    view = TableView(table, filters=(Filter("age", "=", "30"),))
    assert await session.count(view) == 2 and await session.estimate(view) >= 1
    found = await session.row_where(TableView(table), {"id": "3"})
    assert found is not None and found.values[1] == "bob"
    with pytest.raises(CrestfallError):
        Filter("age", "between", "1")


HOSTILE = ['Mixed Case', 'has "quotes"', "semi;colon", "select", "naïve ünïcödé", "sp ace",
           "drop table x; --", "ÆØÅ", "back\\slash", "per%cent", "dollar$", "日本"]


async def test_hostile_identifiers_browse_and_edit(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """Tables and columns named with quotes, semicolons, reserved words, spaces and
    non-ASCII: pages, filters, sorts, edits, inserts and deletes all work."""
    for table_name, column_name in itertools.islice(
            itertools.product(HOSTILE, reversed(HOSTILE)), 0, None, 7):
        db.execute(sql.SQL("create table {} ({} int primary key, {} text)").format(
            sql.Identifier(table_name), sql.Identifier(column_name),
            sql.Identifier(column_name + " 2")))
        db.execute(sql.SQL("insert into {} values (1, 'a'), (2, 'b')").format(
            sql.Identifier(table_name)))
        table = await session.table(schema, table_name)
        view = TableView(table, sort=(SortKey(column_name + " 2", descending=True),),
                         filters=(Filter(column_name, "<=", "2"),))
        rows = await session.page(view, "first")
        assert [row.values for row in rows] == [("2", "b"), ("1", "a")]
        pending = PendingChanges()
        pending.set_cell(rows[0], column_name + " 2", "c'; --", "b")
        pending.toggle_delete(rows[1])
        pending.insert({column_name: "3", column_name + " 2": "d"})
        await session.commit(table, pending)
        assert [row.values for row in await session.page(TableView(table), "first")] == [
            ("2", "c'; --"), ("3", "d")]
        db.execute(sql.SQL("drop table {}").format(sql.Identifier(table_name)))


async def test_export_and_import_round_trip(
        db: psycopg.Connection[tuple[object, ...]], schema: str, session: TableSession,
        tmp_path: Path) -> None:
    """The filtered, sorted view to CSV and back into a copy: same rows, NULL and '' kept;
    JSON Lines too."""
    db.execute("create table src (id int primary key, t text, j jsonb)")
    db.execute("insert into src values (1, 'a,b', '{\"x\": 1}'), (2, '', null), "
               "(3, null, '[]'), (4, 'skip', null)")
    db.execute("create table dst (like src)")
    table = await session.table(schema, "src")
    view = TableView(table, sort=(SortKey("id", descending=True),),
                     filters=(Filter("id", "<", "4"),))
    out = tmp_path / "out.csv"
    report = await session.export(view, out, lambda done, rows: None)
    assert report.bytes_written == out.stat().st_size and out.read_text().startswith("id,t,j")
    dst = await session.table(schema, "dst")
    plan = read_plan(out, dst)
    assert plan.mapping == ["id", "t", "j"] and len(plan.rows) == 3
    session.log = ActionLog("local", tmp_path)
    assert await session.import_csv(dst, plan, lambda sent, total: None) == 3
    [imported] = session.log.entries()
    assert (imported.source, imported.tag, imported.rows) == ("import", "COPY 3", 3)
    assert imported.statement.startswith(f'COPY "{schema}"."dst" ("id", "t", "j") FROM STDIN')
    assert str(out) in imported.statement
    assert db.execute("select * from dst order by id").fetchall() == db.execute(
        "select * from src where id < 4 order by id").fetchall()
    lines = tmp_path / "out.jsonl"
    report = await session.export(view, lines, lambda done, rows: None)
    assert report.rows == 3 and '"t":null' in lines.read_text().replace(" ", "")


async def test_a_bad_csv_line_loads_nothing_and_names_the_line(
        db: psycopg.Connection[tuple[object, ...]], schema: str, session: TableSession,
        tmp_path: Path) -> None:
    """Line 4 has a word where a number goes: nothing is loaded, the message says line 4."""
    db.execute("create table nums (id int primary key, n int)")
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,n\n1,10\n2,20\nthree,30\n4,40\n")
    table = await session.table(schema, "nums")
    plan = read_plan(bad, table)
    assert plan.mapping == ["id", "n"]  # matched whatever the case
    session.log = ActionLog("local", tmp_path)
    with pytest.raises(CrestfallError) as refused:
        await session.import_csv(table, plan, lambda sent, total: None)
    assert "line 4" in refused.value.message and "nothing was loaded" in refused.value.message
    assert session.log.entries() == []  # nothing committed, nothing logged
    assert db.execute("select count(*) from nums").fetchone() == (0,)
    plan.mapping = ["id", None]
    with pytest.raises(CrestfallError, match="goes to no column"):
        await session.import_csv(table, plan, lambda sent, total: None)
    with pytest.raises(CrestfallError, match="no such file"):
        read_plan(tmp_path / "missing.csv", table)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CrestfallError, match="empty"):
        read_plan(empty, table)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CrestfallError, match="not a UTF-8 CSV"):
        read_plan(binary, table)


async def test_pages_stay_whole_after_edits(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """Committing edits to rows of a page, then paging on from it, skips and repeats
    nothing."""
    db.execute("create table seq (id int primary key, v int)")
    db.execute("insert into seq select g, g from generate_series(1, 50) g")
    table = await session.table(schema, "seq")
    view = TableView(table)
    first = await session.page(view, "first", limit=10)
    pending = PendingChanges()
    for row in first[5:]:
        pending.set_cell(row, "v", "0", row.values[1])
    await session.commit(table, pending)
    again = await session.page(view, "from", first[0], limit=10)
    assert [row.values[0] for row in again] == [str(i) for i in range(1, 11)]
    rest = await walk(session, view, limit=10)
    assert [row.values[0] for row in rest] == [str(i) for i in range(1, 51)]


async def test_tree_lists_partitions_under_their_table_with_estimates(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """Partitions name their partitioned table, whose size is theirs together; a
    never-analysed table has no estimate; an analysed one has reltuples; system schemas are
    marked."""
    db.execute("create table events (id int, at date) partition by range (at)")
    db.execute("create table events_2024 partition of events for values from ('2024-01-01') "
               "to ('2025-01-01')")
    db.execute("insert into events select g, '2024-06-01' from generate_series(1, 2000) g")
    db.execute("create table counted (id int)")
    db.execute("insert into counted select generate_series(1, 500)")
    db.execute("analyze counted")
    db.execute("create materialized view frozen as select 1 as one")
    found = {(r.schema, r.name): r for r in await session.relations()}
    assert found[schema, "events"].kind == "partitioned table"
    assert found[schema, "events_2024"].parent == (schema, "events")
    assert found[schema, "events"].size_bytes == found[schema, "events_2024"].size_bytes > 0
    assert found[schema, "counted"].estimated_rows == 500
    assert found[schema, "frozen"].kind == "materialized view"
    assert found["pg_catalog", "pg_class"].system and not found[schema, "counted"].system
    frozen = await session.table(schema, "frozen")
    assert not frozen.editable and "REFRESH" in (frozen.read_only_reason or "")


async def test_no_key_pages_read_stretches_of_blocks_yet_skip_nothing(
        db: psycopg.Connection[tuple[object, ...]], schema: str,
        session: TableSession) -> None:
    """A table without a key over hundreds of blocks, with a hole of empty blocks and a
    sparse filter: pages in ctid order, forwards and backwards, are exactly ORDER BY ctid."""
    db.execute("create table heap (n int, pad text)")
    db.execute("insert into heap select g, repeat('x', 200) from generate_series(1, 30000) g")
    db.execute("delete from heap where n between 5000 and 20000")
    db.execute("vacuum heap")
    table = await session.table(schema, "heap")
    for filters in ((), (Filter("n", "<", "100"), ), (Filter("n", ">", "29990"),),
                    (Filter("n", "in", "3, 25000, 29999"),)):
        view = TableView(table, filters=filters)
        assert view.physical
        where = " and ".join(f"n {f.operator} {f.value}" if f.operator != "in"
                             else f"n in ({f.value})" for f in filters) or "true"
        want = [str(n) for (n,) in db.execute(
            f"select n from heap where {where} order by ctid").fetchall()]
        for backwards in (False, True):
            rows = await walk(session, view, limit=700, backwards=backwards)
            assert [row.values[0] for row in rows] == want
