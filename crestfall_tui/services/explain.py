"""EXPLAIN (FORMAT JSON), read into a tree of plan nodes with each node's own cost."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crestfall_tui.services.query_session import QuerySession
from crestfall_tui.services.sql_text import Statement


@dataclass
class PlanNode:
    """One node of a plan, with its children."""

    node_type: str
    relation: str | None
    startup_cost: float
    total_cost: float
    plan_rows: int
    actual_ms: float | None
    actual_rows: int | None
    loops: int | None
    children: list[PlanNode] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    """Everything else EXPLAIN said of the node (Filter, Index Cond, Sort Key, buffers, rows
    removed, ...), as text, in EXPLAIN's order."""

    @property
    def own_cost(self) -> float:
        """What this node adds to its children's cost (what makes it expensive itself)."""
        return max(0.0, self.total_cost - sum(child.total_cost for child in self.children))

    def walk(self) -> list[PlanNode]:
        return [self, *(node for child in self.children for node in child.walk())]


def parse_plan(document: Any) -> PlanNode:
    """The root node of EXPLAIN (FORMAT JSON)'s output (parsed, or as text when the session
    loads every value as Postgres's text)."""
    if isinstance(document, str):
        document = json.loads(document)
    return _node(document[0]["Plan"])


def most_expensive(root: PlanNode) -> PlanNode:
    """The node with the highest cost of its own."""
    return max(root.walk(), key=lambda node: node.own_cost)


async def explain(session: QuerySession, statement: Statement, *, analyze: bool) -> PlanNode:
    """The plan of a statement; with `analyze` it runs, inside a transaction rolled back."""
    import psycopg

    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    prefix = f"EXPLAIN ({options}) "
    conn = await session.connection()
    try:
        async with conn.transaction(force_rollback=True), session.scope(conn), \
                conn.cursor() as cursor:
            await cursor.execute((prefix + statement.text).encode())
            row = await cursor.fetchone()
    except psycopg.Error as error:
        raise QuerySession.error_for(statement, error, len(prefix)) from None
    assert row is not None
    return parse_plan(row[0])


def _node(plan: dict[str, Any]) -> PlanNode:
    relation = plan.get("Relation Name")
    if relation and plan.get("Alias") and plan["Alias"] != relation:
        relation = f"{relation} {plan['Alias']}"
    return PlanNode(
        node_type=plan["Node Type"] + (f" ({plan['Join Type']})" if "Join Type" in plan else ""),
        relation=relation or plan.get("Index Name"),
        startup_cost=float(plan.get("Startup Cost", 0)),
        total_cost=float(plan.get("Total Cost", 0)),
        plan_rows=int(plan.get("Plan Rows", 0)),
        actual_ms=plan.get("Actual Total Time"),
        actual_rows=plan.get("Actual Rows"),
        loops=plan.get("Actual Loops"),
        children=[_node(child) for child in plan.get("Plans", [])],
        details={key: _detail(value) for key, value in plan.items()
                 if key not in _SHOWN and value not in (None, "", [], False)},
    )


_SHOWN = frozenset({"Node Type", "Join Type", "Relation Name", "Alias", "Index Name",
                    "Startup Cost", "Total Cost", "Plan Rows", "Actual Total Time",
                    "Actual Rows", "Actual Loops", "Plans"})
"""Keys a PlanNode holds in fields of its own. A false flag (Parallel Aware: no) is left
out as well: it says nothing."""


def _detail(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
