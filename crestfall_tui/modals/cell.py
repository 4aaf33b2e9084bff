"""One value in full: JSON pretty-printed, bytes as hex, long text wrapped."""

from __future__ import annotations

import json
from typing import Any

from textual.screen import Screen

from crestfall_tui.modals.reading import TextModal
from crestfall_tui.widgets.result_grid import ResultGrid, value_text


class CellModal(TextModal):
    """Shows a cell's whole value, read-only, scrollable; escape closes."""

    def __init__(self, column: str, value: Any) -> None:
        text, kind = full_text(value)
        super().__init__(f"{column} ({kind})", text, "json" if kind == "json" else None)


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


def on_cell_action(screen: Screen[Any], event: ResultGrid.CellAction) -> None:
    """What a grid asked for: the cell in full, or the cell or row on the clipboard."""
    if event.action == "open":
        screen.app.push_screen(CellModal(event.column, event.value))
        return
    values = [event.value] if event.action == "copy_cell" else list(event.row)
    text = "\t".join(value_text(v) for v in values)
    screen.app.copy_to_clipboard(text)  # OSC 52: reaches the local clipboard over SSH
    screen.notify(f"copied {'the cell' if event.action == 'copy_cell' else 'the row'}",
                  timeout=2)
