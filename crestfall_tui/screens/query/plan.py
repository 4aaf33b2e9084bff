"""A query plan as a tree: each node on one line with its cost (and actual time), the most
expensive one marked, and everything EXPLAIN said of the highlighted node below, wrapped, so
nothing is cut off on a small terminal."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static, Tree
from textual.widgets.tree import TreeNode

from crestfall_tui.modals.reading import ReadingModal
from crestfall_tui.services.explain import PlanNode, most_expensive


class PlanModal(ReadingModal):
    """EXPLAIN's plan; escape closes."""

    DEFAULT_CSS = """
    PlanModal > .frame > Tree { height: 1fr; min-height: 4; }
    PlanModal #plan-node { height: auto; max-height: 45%; border-top: solid $panel-lighten-2; }
    """

    def __init__(self, root: PlanNode, *, analyzed: bool) -> None:
        super().__init__()
        self.root = root
        self.analyzed = analyzed
        self.hottest = most_expensive(root)

    def compose(self) -> ComposeResult:
        kind = "EXPLAIN ANALYZE (rolled back)" if self.analyzed else "EXPLAIN"
        with Vertical(classes="frame"):
            yield Label(f"{kind}: total cost {self.root.total_cost:.2f}; the most expensive "
                        "node is marked ◀; the highlighted node's details are below — "
                        "escape closes")
            tree: Tree[PlanNode] = Tree(self._label(self.root), data=self.root)
            self._add(tree.root, self.root)
            tree.root.expand_all()
            yield tree
            with VerticalScroll(id="plan-node"):
                yield Static(self._details(self.root), id="plan-node-text")

    def _add(self, parent: TreeNode[PlanNode], node: PlanNode) -> None:
        for child in node.children:
            branch = parent.add(self._label(child), data=child)
            self._add(branch, child)

    def _label(self, node: PlanNode) -> Text:
        text = Text(node.node_type, style="bold")
        if node.relation:
            text.append(f" on {node.relation}")
        text.append(f"  {node.total_cost:.2f}", style="dim")
        if node.actual_ms is not None:
            text.append(f"  {node.actual_ms:.3f} ms")
        if node is self.hottest:
            text.append("  ◀", style=self.app.current_theme.error or "red")
        return text

    @on(Tree.NodeHighlighted)
    def _show_node(self, event: Tree.NodeHighlighted[PlanNode]) -> None:
        if event.node.data is not None:
            self.query_one("#plan-node-text", Static).update(self._details(event.node.data))

    def _details(self, node: PlanNode) -> Text:
        text = Text(node.node_type + (f" on {node.relation}" if node.relation else ""),
                    style="bold")
        if node is self.hottest:
            text.append("  ◀ most expensive", style=self.app.current_theme.error or "red")
        text.append(f"\ncost {node.startup_cost:.2f}..{node.total_cost:.2f} (own "
                    f"{node.own_cost:.2f}), rows {node.plan_rows:,} estimated")
        if node.actual_ms is not None:
            text.append(f"\nactual {node.actual_ms:.3f} ms, rows {node.actual_rows:,}, "
                        f"loops {node.loops:,}")
        for key, value in node.details.items():
            text.append(f"\n{key}: ", style="bold")
            text.append(value)
        return text
