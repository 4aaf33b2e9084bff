"""Moving data and changing who looks, in the Tables screen: view as a role or auth user,
export the view, import a CSV file, read the action log."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.widgets import ProgressBar

from crestfall_tui.modals.prompt import PromptModal
from crestfall_tui.modals.run_as import ask_run_as
from crestfall_tui.screens.tables.csv_import import ImportModal
from crestfall_tui.screens.tables.editing import TablesEditing
from crestfall_tui.services.csv_import import CsvPlan, read_plan
from crestfall_tui.services.relations import TableInfo
from crestfall_tui.services.table_view import TableView


class TablesTransfer(TablesEditing):
    """Roles, export, import, the action log."""

    def action_view_as(self) -> None:
        ask_run_as(self, "View as", self.session.run_as, self.change_role)

    @work(group="fetch", exit_on_error=False)
    async def change_role(self, answer: str) -> None:
        await self.session.view_as(answer)
        self.load_tree()
        if self.view is not None:
            await self.show_view(self.view)

    def action_export(self) -> None:
        if self.view is None:
            return
        view = self.view

        def chosen(path: str | None) -> None:
            if path:
                self.export(view, Path(path).expanduser())

        self.app.push_screen(PromptModal("Export the rows (with the filters and sort) to a "
                                         ".csv or .jsonl file:",
                                         str(Path.cwd() / f"{view.table.name}.csv")), chosen)

    @work(group="transfer", exclusive=True, exit_on_error=False)
    async def export(self, view: TableView, path: Path) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=max(1, self.estimate or 1), progress=0)

        def progress(written: int, rows: int | None) -> None:
            bar.update(progress=rows or 0)

        try:
            report = await self.session.export(view, path, progress)
        finally:
            bar.display = False
        self.notify(f"exported {report.rows:,} rows, {report.bytes_written / 1e6:.1f} MB to "
                    f"{path}", title="Export")

    def action_import_csv(self) -> None:
        if self.view is None:
            return
        table = self.view.table

        def chosen(path: str | None) -> None:
            if path:
                self.prepare_import(table, Path(path).expanduser())

        self.app.push_screen(PromptModal(f"CSV file to load into {table.qualified} (its "
                                         "first line names the columns):"), chosen)

    @work(group="transfer", exclusive=True, thread=True, exit_on_error=False)
    def prepare_import(self, table: TableInfo, path: Path) -> None:
        plan = read_plan(path, table)
        self.app.call_from_thread(self.app.push_screen, ImportModal(plan, table),
                                  lambda mapped: mapped and self.load_csv(table, mapped))

    @work(group="transfer", exit_on_error=False)
    async def load_csv(self, table: TableInfo, plan: CsvPlan) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True

        def progress(sent: int, total: int) -> None:
            bar.update(total=max(1, total), progress=sent)

        try:
            loaded = await self.session.import_csv(table, plan, progress)
        finally:
            bar.display = False
        self.notify(f"loaded {loaded:,} rows from {plan.path.name}", title="Import")
        self.reload_window()

