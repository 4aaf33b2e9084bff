"""Finding rows in the Tables screen: go to a key, foreign-key jumps (and back), an exact
count. Sort and filters are the ViewControls widget's."""

from __future__ import annotations

from textual import work

from crestfall_tui.modals.picker import PickerModal
from crestfall_tui.modals.prompt import PromptModal
from crestfall_tui.screens.tables.editing import TablesEditing
from crestfall_tui.services.table_session import PAGE_SIZE
from crestfall_tui.services.table_view import Filter, Row, TableView


class TablesNavigation(TablesEditing):
    """Jump; every change of view reads the rows again."""

    def change_view(self, view: TableView) -> None:
        """A new sort or filter: rows are read again, pending changes stay."""
        self.apply_view(view)

    @work(group="fetch", exit_on_error=False)
    async def apply_view(self, view: TableView) -> None:
        await self.show_view(view)

    def action_go_to_key(self) -> None:
        view = self.view
        if view is None:
            return
        key = view.table.primary_key
        if not key:
            self.notify("this relation has no primary key to go to", severity="warning")
            return

        def answered(text: str | None) -> None:
            if text is None:
                return
            values = [part.strip() for part in text.split(",")] if len(key) > 1 else [text]
            if len(values) != len(key):
                self.notify(f"give {len(key)} values: {', '.join(key)}", severity="error")
                return
            self.go_to(dict(zip(key, values, strict=True)))

        self.app.push_screen(PromptModal(f"Go to the row where {', '.join(key)} = "), answered)

    @work(group="fetch", exit_on_error=False)
    async def go_to(self, key: dict[str, str]) -> None:
        assert self.view is not None
        row = await self.session.row_where(self.view, key)
        if row is None:
            wanted = ", ".join(f"{k} = {v}" for k, v in key.items())
            self.notify(f"no row where {wanted}" + (" within the filters" if self.view.filters
                                                    else ""), severity="warning")
            return
        rows = await self.session.page(self.view, "from", row)
        self.grid.show(rows, at_start=False, at_end=len(rows) < PAGE_SIZE, cursor=0)
        self.show_title()

    def action_follow_key(self) -> None:
        view, entry, column = self.view, self.grid.entry(), self.grid.column_name
        if view is None or not isinstance(entry, Row) or column is None:
            return
        key = next((fk for fk in view.table.references if column in fk.columns), None)
        if key is None:
            self.notify(f"{column} is not part of a foreign key", severity="warning")
            return
        values = [entry.values[view.table.column_index(c)] for c in key.columns]
        if None in values:
            self.notify("a NULL foreign key references no row", severity="warning")
            return
        self.open(key.ref_schema, key.ref_table, tuple(
            Filter(name, "=", value) for name, value in zip(key.ref_columns, values,
                                                              strict=True)))

    def action_referencing(self) -> None:
        view, entry = self.view, self.grid.entry()
        if view is None or not isinstance(entry, Row):
            return
        keys = list(view.table.referenced_by)
        if not keys:
            self.notify(f"no foreign key references {view.table.qualified}",
                        severity="warning")
            return
        choices = [(f"{k.schema}.{k.table} ({', '.join(k.columns)}) via {k.name}", str(i))
                   for i, k in enumerate(keys)]

        def chosen(index: str | None) -> None:
            if index is None:
                return
            key = keys[int(index)]
            values = [entry.values[view.table.column_index(c)] for c in key.ref_columns]
            self.open(key.schema, key.table, tuple(
                Filter(name, "=", value) if value is not None else Filter(name, "is null")
                for name, value in zip(key.columns, values, strict=True)))

        self.app.push_screen(PickerModal("Rows that reference this one, in", lambda search: [
            c for c in choices if search.lower() in c[0].lower()]), chosen)

    def action_back(self) -> None:
        if not self.history:
            return
        previous = self.history.pop()
        self.ask_to_leave(lambda: self.open(previous.table.schema, previous.table.name,
                                            previous.filters, remember=False))

    @work(group="count", exit_on_error=False)
    async def action_count(self) -> None:
        if self.view is not None:
            self.notify("counting…", timeout=2)
            self.exact = await self.session.count(self.view)
            self.show_title()
