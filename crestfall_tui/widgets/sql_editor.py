"""The SQL editor: Textual's TextArea with SQL highlighting, a new line that keeps the
indentation of the one before it, and the lines of the statement under the cursor marked in
the gutter."""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.strip import Strip
from textual.widgets import TextArea


class SqlEditor(TextArea):
    """A TextArea for SQL; enter keeps the current line's indentation."""

    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {"sql-editor--statement"}
    DEFAULT_CSS = """
    SqlEditor > .sql-editor--statement { background: $accent 60%; color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(language="sql", id=id, show_line_numbers=True, soft_wrap=False,
                         tab_behavior="focus")
        self.statement_lines: tuple[int, int] | None = None
        """The first and last line (0-based) of the statement under the cursor."""

    def mark_statement(self, lines: tuple[int, int] | None) -> None:
        """Mark these lines' numbers (None: no statement under the cursor)."""
        if lines != self.statement_lines:
            self.statement_lines = lines
            self.refresh()

    def render_line(self, y: int) -> Strip:
        # TextArea has no API for marking a range of lines; its line numbers are drawn
        # first in each line, so the statement's are restyled after it renders them.
        strip = super().render_line(y)
        lines = self.statement_lines
        line = self.scroll_offset.y + y
        if lines is None or not lines[0] <= line <= lines[1] or not self.show_line_numbers:
            return strip
        gutter = self.gutter_width
        style = self.get_component_rich_style("sql-editor--statement")
        marked = Segment.apply_style(strip.crop(0, gutter), post_style=style)
        return Strip.join([Strip(marked), strip.crop(gutter, strip.cell_length)])

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
