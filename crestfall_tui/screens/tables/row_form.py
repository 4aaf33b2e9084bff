"""A form for a new row: one field a column, its default shown; a blank field takes the
default (NULL where there is none). Values are checked by Postgres before the row is kept."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label

from crestfall_tui.errors import CrestfallError
from crestfall_tui.modals.base import CrestfallModal
from crestfall_tui.screens.tables.cell_editor import Check
from crestfall_tui.services.relations import TableInfo


class RowFormModal(CrestfallModal[dict[str, str] | None]):
    """Dismisses with the values typed (by column), or None when cancelled."""

    DEFAULT_CSS = """
    RowFormModal > .frame {
        width: 90%; height: auto; max-height: 90%; border: thick $accent;
        background: $surface; padding: 0 1;
    }
    RowFormModal Horizontal { height: auto; }
    RowFormModal .field-name { width: 30; padding: 1 1 0 0; }
    RowFormModal Input { width: 1fr; }
    RowFormModal #form-error { color: $error; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="row_form.cancel"),
        Binding("ctrl+s", "accept", "Add row", id="row_form.accept"),
    ]

    def __init__(self, table: TableInfo, check: Check,
                 values: dict[str, str] | None = None) -> None:
        super().__init__()
        self.table = table
        self.check = check
        self.values = values or {}
        self.checking = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="frame"):
            yield Label(f"New row in {self.table.qualified} — blank takes the default; enter "
                        "goes to the next field, ctrl+s adds the row, escape cancels",
                        markup=False)
            filled_by = ", ".join(self.table.insert_triggers)
            required = f"required, unless trigger {filled_by} fills it" if filled_by \
                else "required"
            for index, column in enumerate(self.table.columns):
                if not column.writable:
                    continue
                default = column.default or ("identity" if column.identity else None)
                hint = f"DEFAULT {default}" if default else "NULL" if column.nullable \
                    else required
                with Horizontal():
                    yield Label(Text.assemble(column.name, "\n", (column.type_sql, "dim")),
                                classes="field-name")
                    yield Input(self.values.get(column.name, ""), placeholder=hint,
                                id=f"field-{index}")
            yield Label("", id="form-error", markup=False)

    def on_mount(self) -> None:
        fields = self._fields()
        if fields:
            fields[0][1].focus()

    def _fields(self) -> list[tuple[str, Input]]:
        return [(self.table.columns[int(field.id.split("-")[1])].name, field)
                for field in self.query(Input) if field.id]

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        inputs = [field for _, field in self._fields()]
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self.action_accept()

    def action_accept(self) -> None:
        self.validate_and_accept({name: field.value for name, field in self._fields()
                                  if field.value != ""})

    @work(group="row-check", exit_on_error=False)
    async def validate_and_accept(self, values: dict[str, str]) -> None:
        """Keep the row only if Postgres takes every value (one check at a time)."""
        if self.checking:
            return
        self.checking = True
        problems = []
        try:
            for name, text in values.items():
                try:
                    await self.check(self.table.column(name), text)
                except CrestfallError as error:
                    problems.append(error.message)
        finally:
            self.checking = False
        if problems:
            self.query_one("#form-error", Label).update("\n".join(problems))
            return
        self.dismiss(values)
