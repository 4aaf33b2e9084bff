"""A query plan as a tree: costs on every node, the most expensive one marked."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Tree
from textual.widgets.tree import TreeNode

from crestfall_tui.modals.reading import ReadingModal
from crestfall_tui.services.explain import PlanNode, most_expensive


class PlanModal(ReadingModal):
    """EXPLAIN's plan; escape closes."""

    def __init__(self, root: PlanNode, *, analyzed: bool) -> None:
        super().__init__()
        self.root = root
        self.analyzed = analyzed
        self.hottest = most_expensive(root)

    def compose(self) -> ComposeResult:
        kind = "EXPLAIN ANALYZE (rolled back)" if self.analyzed else "EXPLAIN"
        with Vertical():
            yield Label(f"{kind}: total cost {self.root.total_cost:.2f}; the most expensive "
                        "node is marked ◀ — escape closes")
            tree: Tree[PlanNode] = Tree(self._label(self.root), data=self.root)
            tree.root.expand()
            self._add(tree.root, self.root)
            tree.root.expand_all()
            yield tree

    def _add(self, parent: TreeNode[PlanNode], node: PlanNode) -> None:
        for child in node.children:
            branch = parent.add(self._label(child), data=child)
            self._add(branch, child)

    def _label(self, node: PlanNode) -> Text:
        text = Text(node.node_type, style="bold")
        if node.relation:
            text.append(f" on {node.relation}")
        text.append(f"  cost={node.startup_cost:.2f}..{node.total_cost:.2f} "
                    f"rows={node.plan_rows}", style="dim")
        if node.actual_ms is not None:
            text.append(f"  actual {node.actual_ms:.3f} ms, rows={node.actual_rows} "
                        f"loops={node.loops}")
        if node is self.hottest:
            text.append("  ◀ most expensive", style=self.app.current_theme.error or "red")
        return text
