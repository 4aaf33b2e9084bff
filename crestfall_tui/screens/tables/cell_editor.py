"""Editing one cell with an editor fit for its type: a picker for an enum, a JSON editor
that checks the JSON, a multi-line editor for long text, a line for everything else (digits
only for integers). Postgres checks the value before it is accepted; a refused value stays
in the editor with the reason beside it, so nothing typed is lost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from crestfall_tui.errors import CrestfallError
from crestfall_tui.modals.base import CrestfallModal
from crestfall_tui.services.relations import ColumnInfo

Check = Callable[[ColumnInfo, str], Awaitable[None]]
"""Raises a CrestfallError saying why the text is not a value of the column's type."""

INTEGERS = ("int2", "int4", "int8")
NUMBERS = ("numeric", "float4", "float8", "money")
HINTS = {"D": "e.g. 2024-12-31, 2024-12-31 23:59:59+00, 1 day 02:00",
         "B": "true or false", "U": ""}


class CellEditorModal(CrestfallModal[str | None]):
    """Dismisses with the accepted text, or None when cancelled."""

    DEFAULT_CSS = """
    CellEditorModal > .frame {
        width: 90%; height: auto; max-height: 90%; border: thick $accent;
        background: $surface; padding: 0 1;
    }
    CellEditorModal TextArea { height: 16; }
    CellEditorModal OptionList { height: auto; max-height: 16; }
    CellEditorModal #editor-error { color: $error; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="cell_editor.cancel"),
        Binding("ctrl+s", "accept", "Accept", tooltip="Check the value and keep it",
                id="cell_editor.accept"),
    ]

    def __init__(self, column: ColumnInfo, current: str | None, check: Check) -> None:
        super().__init__()
        self.column = column
        self.current = current
        self.check = check
        self.checking = False

    @property
    def kind(self) -> str:
        """enum, json, text (several lines) or line."""
        if self.column.enum_labels and not self.column.is_array:
            return "enum"
        if self.column.base_type in ("json", "jsonb"):
            return "json"
        if "\n" in (self.current or "") or (self.column.category == "S"
                                             and len(self.current or "") > 80):
            return "text"
        return "line"

    def compose(self) -> ComposeResult:
        column = self.column
        with Vertical(classes="frame"):
            yield Label(f"{column.name} ({column.type_sql}"
                        f"{'' if column.nullable else ', not null'}) — {self._keys()}",
                        markup=False)
            if self.kind == "enum":
                yield OptionList(*[Option(label, id=label) for label in
                                   column.enum_labels or ()], id="editor-options")
            elif self.kind in ("json", "text"):
                yield TextArea(self._pretty(), language="json" if self.kind == "json" else None,
                               id="editor-text", soft_wrap=True, show_line_numbers=True)
            else:
                kind: Literal["integer", "number", "text"] = "text"
                if not column.is_array and column.base_type in INTEGERS:
                    kind = "integer"
                elif not column.is_array and column.base_type in NUMBERS:
                    kind = "number"
                yield Input(self.current or "", type=kind, id="editor-line",
                            placeholder=self._hint(), select_on_focus=False)
            yield Label("", id="editor-error", markup=False)

    def _keys(self) -> str:
        if self.kind == "enum":
            return "enter picks, escape cancels"
        if self.kind == "line":
            return "enter keeps it, escape cancels"
        return "ctrl+s keeps it, escape cancels"

    def _hint(self) -> str:
        if self.column.is_array:
            return "an array, e.g. {1,2,3} or {\"a b\",c}"
        return HINTS.get(self.column.category, "")

    def _pretty(self) -> str:
        if self.kind != "json" or not self.current:
            return self.current or ""
        import json

        try:
            return json.dumps(json.loads(self.current), indent=2, ensure_ascii=False)
        except ValueError:
            return self.current

    def on_mount(self) -> None:
        if self.kind == "enum":
            options = self.query_one(OptionList)
            labels = list(self.column.enum_labels or ())
            if self.current in labels:
                options.highlighted = labels.index(self.current)
            options.focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Input.Submitted)
    def action_accept(self) -> None:
        if self.kind == "enum":
            self.query_one(OptionList).action_select()
            return
        text = self.query_one(TextArea).text if self.kind in ("json", "text") else \
            self.query_one(Input).value
        self.validate_and_accept(text)

    @work(group="cell-check", exit_on_error=False)
    async def validate_and_accept(self, text: str) -> None:
        """Keep the value only if Postgres takes it for the column's type (one check at a
        time: a second enter while one runs is ignored)."""
        if self.checking:
            return
        self.checking = True
        try:
            await self.check(self.column, text)
        except CrestfallError as error:
            self.query_one("#editor-error", Label).update(error.message)
            return
        finally:
            self.checking = False
        self.dismiss(text)
