"""EXPLAIN as a tree: the service against the real Postgres, and the keys on the screen."""

from __future__ import annotations

import psycopg
import pytest

from crestfall_tui.app import CrestfallApp
from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.modals import ConfirmModal
from crestfall_tui.screens.query.plan import PlanModal
from crestfall_tui.services.explain import explain, most_expensive
from crestfall_tui.services.query_session import QueryError, QuerySession
from crestfall_tui.services.sql_text import split_statements
from tests.drivers import open_query, until
from tests.helpers import StackUnderTest


@pytest.fixture(scope="module", autouse=True)
def tables(stack: StackUnderTest) -> None:
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        conn.execute("drop table if exists plan_a, plan_b; "
                     "create table plan_a (id int primary key, v text); "
                     "create table plan_b (a_id int, w text); "
                     "insert into plan_a select g, g::text from generate_series(1, 5000) g; "
                     "insert into plan_b select g % 5000, 'x' from generate_series(1, 20000) g; "
                     "analyze plan_a; analyze plan_b")


async def test_plan_tree_with_costs_and_hottest_node(stack: StackUnderTest) -> None:
    """A join's plan comes back as a tree; the most expensive node is one of its nodes."""
    session = QuerySession(PostgresClient(stack.runtime.db_url))
    try:
        statement = split_statements(
            "select * from plan_a join plan_b on plan_b.a_id = plan_a.id where v like '1%'")[0]
        root = await explain(session, statement, analyze=False)
        assert "Join" in root.node_type or any("Join" in n.node_type for n in root.walk())
        assert {n.relation for n in root.walk()} >= {"plan_a", "plan_b"}
        assert root.total_cost > 0 and root.actual_ms is None
        assert most_expensive(root) in root.walk()
    finally:
        await session.close()


async def test_analyze_of_a_write_is_rolled_back(stack: StackUnderTest) -> None:
    """EXPLAIN ANALYZE of a DELETE runs it (actual rows) and leaves the table as it was."""
    session = QuerySession(PostgresClient(stack.runtime.db_url))
    try:
        statement = split_statements("delete from plan_b where a_id < 100")[0]
        root = await explain(session, statement, analyze=True)
        assert root.actual_ms is not None
        with pytest.raises(QueryError) as caught:
            await explain(session, split_statements("select nope from plan_a")[0],
                          analyze=False)
        assert caught.value.position == len("select ")
    finally:
        await session.close()
    with psycopg.connect(stack.conninfo) as conn:
        assert conn.execute("select count(*) from plan_b").fetchone() == (20000,)


async def test_explain_keys_on_the_query_screen(stack: StackUnderTest) -> None:
    """ctrl+l shows the plan; ctrl+g on a DELETE asks first, then shows actual times."""
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_query(stack, app, "select * from plan_a where id = 7")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, PlanModal))
        assert isinstance(app.screen, PlanModal) and not app.screen.analyzed
        await pilot.press("escape")
        await open_query(stack, app, "delete from plan_b where a_id = 3")
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, PlanModal))
        assert isinstance(app.screen, PlanModal) and app.screen.analyzed
        assert app.screen.root.actual_ms is not None
    with psycopg.connect(stack.conninfo) as conn:
        assert conn.execute("select count(*) from plan_b where a_id = 3").fetchone() == (4,)
