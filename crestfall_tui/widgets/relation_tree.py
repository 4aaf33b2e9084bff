"""The schema tree: schemas, and in each its tables, views, materialized views, partitioned
tables (with their partitions beneath), with estimated rows and size."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from crestfall_tui.services.relations import Relation
from crestfall_tui.services.units import size_text

ICONS = {"table": "▦", "partitioned table": "◫", "view": "◇", "materialized view": "◆",
         "foreign table": "⇄"}


class RelationTree(Tree[Relation | None]):
    """Relations grouped by schema; selecting one (enter) opens it."""

    BINDINGS = [
        Binding("S", "toggle_system", "System schemas",
                tooltip="Show or hide pg_catalog and information_schema",
                id="tables.system"),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__("relations", id=id)
        self.show_root = False
        self.relations: list[Relation] = []
        self.show_system = False
        self.search = ""

    def load(self, relations: list[Relation]) -> None:
        self.relations = relations
        self.rebuild()

    def action_toggle_system(self) -> None:
        self.show_system = not self.show_system
        self.rebuild()

    def set_search(self, search: str) -> None:
        self.search = search.strip().lower()
        self.rebuild()

    def rebuild(self) -> None:
        """The tree for the relations that pass the toggles and the search."""
        self.clear()
        wanted = [r for r in self.relations
                  if (self.show_system or not r.system)
                  and (not self.search or self.search in r.qualified.lower())]
        names = {(r.schema, r.name) for r in wanted}
        schemas: dict[str, TreeNode[Relation | None]] = {}
        parents: dict[tuple[str, str], TreeNode[Relation | None]] = {}
        for relation in sorted(wanted, key=lambda r: (r.parent is not None, r.schema, r.name)):
            schema = schemas.get(relation.schema)
            if schema is None:
                schema = self.root.add(Text(relation.schema, style="bold"), None,
                                       expand=bool(self.search) or relation.schema == "public")
                schemas[relation.schema] = schema
            under = parents.get(relation.parent) if relation.parent in names and \
                relation.parent else schema
            node = (under or schema).add(_label(relation), relation,
                                         allow_expand=relation.kind == "partitioned table")
            if relation.kind == "partitioned table":
                parents[relation.schema, relation.name] = node
        if self.search:
            self.root.expand_all()
        first = self.first_match()
        if first is not None:  # the cursor on the first match: enter opens it
            self.call_after_refresh(self.move_cursor, first)

    def first_match(self) -> TreeNode[Relation | None] | None:
        """The first relation shown."""
        return next((node for schema in self.root.children for node in schema.children), None)

    def find(self, schema: str, name: str) -> TreeNode[Relation | None] | None:
        """The node of a relation, to move the cursor onto it."""
        stack = list(self.root.children)
        while stack:
            node = stack.pop()
            if node.data is not None and (node.data.schema, node.data.name) == (schema, name):
                return node
            stack.extend(node.children)
        return None


def _label(relation: Relation) -> Text:
    label = Text(f"{ICONS.get(relation.kind, '?')} {relation.name}")
    if relation.kind not in ("view",):
        rows = "?" if relation.estimated_rows is None else _count(relation.estimated_rows)
        label.append(f"  ~{rows} · {size_text(relation.size_bytes)}", style="dim")
    return label


def _count(rows: int) -> str:
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if rows >= limit:
            return f"{rows / limit:.1f}{suffix}".replace(".0", "")
    return str(rows)
