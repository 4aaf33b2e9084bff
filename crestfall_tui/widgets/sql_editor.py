"""The SQL editor: Textual's TextArea with SQL highlighting, and a new line that keeps the
indentation of the one before it."""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea


class SqlEditor(TextArea):
    """A TextArea for SQL; enter keeps the current line's indentation."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(language="sql", id=id, show_line_numbers=True, soft_wrap=False,
                         tab_behavior="focus")

    async def _on_key(self, event: events.Key) -> None:
        # Textual's guide extends TextArea by overriding _on_key (its own example closes
        # brackets); a binding for enter would never see the key.
        if event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            line = self.document.get_line(self.cursor_location[0])
            indent = line[: len(line) - len(line.lstrip())]
            result = self.replace("\n" + indent, *sorted(self.selection))
            self.move_cursor(result.end_location)
            return
        await super()._on_key(event)
