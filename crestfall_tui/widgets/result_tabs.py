"""The Query screen's results: one tab per statement run, the newest shown."""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane

from crestfall_tui.widgets.query_grid import QueryGrid


class ResultTabs(TabbedContent):
    """A grid per result, in tabs titled by their statement."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, classes="-single")
        self._opened = 0

    async def reset(self) -> None:
        """No tabs: a new run starts."""
        await self.clear_panes()
        self._opened = 0

    async def open(self, statement_text: str) -> QueryGrid:
        """A tab for one statement's rows, made the active one."""
        self._opened += 1
        grid = QueryGrid()
        title = f"{self._opened}: {' '.join(statement_text.split())[:24]}"
        await self.add_pane(TabPane(title, grid, id=f"result-{self._opened}"))
        self.active = f"result-{self._opened}"
        self.set_class(self._opened == 1, "-single")  # a short screen hides one tab
        return grid
