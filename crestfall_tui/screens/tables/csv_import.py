"""Before a CSV file is loaded: its first rows, and which table column each of its columns
fills (enter changes one). `l` loads it; nothing is loaded until then."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Label, OptionList
from textual.widgets.option_list import Option

from crestfall_tui.modals.base import CrestfallModal
from crestfall_tui.modals.picker import PickerModal
from crestfall_tui.services.csv_import import CsvPlan
from crestfall_tui.services.relations import TableInfo

NOWHERE = "(nowhere)"


class ImportModal(CrestfallModal[CsvPlan | None]):
    """Dismisses with the plan as mapped, or None when cancelled."""

    DEFAULT_CSS = """
    ImportModal > .frame {
        width: 95%; height: 90%; border: thick $accent; background: $surface; padding: 0 1;
    }
    ImportModal DataTable { height: 12; }
    ImportModal OptionList { height: 1fr; }
    ImportModal #import-problems { color: $error; }
    """
    BINDINGS = [
        Binding("l", "load", "Load", tooltip="COPY the whole file in one transaction",
                id="import.load"),
        Binding("escape", "dismiss(None)", "Cancel", id="import.cancel"),
    ]

    def __init__(self, plan: CsvPlan, table: TableInfo) -> None:
        super().__init__()
        self.plan = plan
        self.table = table

    def compose(self) -> ComposeResult:
        with Vertical(classes="frame"):
            yield Label(f"Import {self.plan.path.name} into {self.table.qualified}: enter "
                        "maps the CSV column under the cursor, l loads, escape cancels",
                        markup=False)
            preview: DataTable[Text] = DataTable(zebra_stripes=True, cursor_type="none")
            preview.add_columns(*self.plan.header)
            for row in self.plan.rows:
                preview.add_row(*[Text(value) for value in row][:len(self.plan.header)]
                                + [Text("")] * (len(self.plan.header) - len(row)))
            yield preview
            yield OptionList(id="import-mapping")
            yield Label("", id="import-problems", markup=False)

    def on_mount(self) -> None:
        self.show_mapping()
        self.query_one(OptionList).focus()

    def show_mapping(self) -> None:
        options = self.query_one(OptionList)
        highlighted = options.highlighted or 0
        options.clear_options()
        options.add_options([
            Option(Text.assemble((name, "bold"), "  →  ", target or (NOWHERE, "red")))
            for name, target in zip(self.plan.header, self.plan.mapping, strict=True)])
        options.highlighted = highlighted
        problems = self.plan.problems(self.table)
        self.query_one("#import-problems", Label).update(
            "; ".join(problems) if problems else "Ready: l loads the whole file.")

    @on(OptionList.OptionSelected)
    def choose_target(self, event: OptionList.OptionSelected) -> None:
        index = event.option_index
        names = [column.name for column in self.table.columns]

        def load(search: str) -> list[tuple[str, str]]:
            return [(name, name) for name in names if search.lower() in name.lower()]

        def chosen(target: str | None) -> None:
            if target is not None:
                self.plan.mapping[index] = target
                self.show_mapping()

        self.app.push_screen(PickerModal(f"Column for {self.plan.header[index]!r}", load),
                             chosen)

    def action_load(self) -> None:
        if not self.plan.problems(self.table):
            self.dismiss(self.plan)
