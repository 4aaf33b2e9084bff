"""One value in full: JSON pretty-printed, bytes as hex, long text wrapped."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, TextArea

from crestfall_tui.screens.reading import ReadingModal


class CellModal(ReadingModal):
    """Shows a cell's whole value, read-only, scrollable; escape closes."""

    def __init__(self, column: str, value: Any) -> None:
        super().__init__()
        self.column = column
        self.text, self.kind = full_text(value)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{self.column} ({self.kind}) — escape closes")
            yield TextArea(self.text, read_only=True, soft_wrap=True,
                           language="json" if self.kind == "json" else None)


def full_text(value: Any) -> tuple[str, str]:
    """The value as text to read in full, and what kind of value it is."""
    if value is None:
        return "NULL", "null"
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, ensure_ascii=False, default=str), "json"
    if isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex(), "bytea"
    text = str(value)
    if text[:1] in "{[" and text[-1:] in "}]":
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False), "json"
        except ValueError:
            pass
    return text, type(value).__name__
