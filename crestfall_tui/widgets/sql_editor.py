"""The SQL editor: Textual's TextArea with SQL highlighting, a new line that keeps the
indentation of the one before it, line comments toggled, the statement under the cursor
marked in the gutter and named in the title, and completion at the cursor (the screen finds
the candidates; the editor offers them and works the list while it is open)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import TextArea

from crestfall_tui.services.completion import word_at
from crestfall_tui.services.sql_text import split_statements, statement_at, toggle_comment
from crestfall_tui.widgets.completion_menu import CompletionMenu

MARK_DELAY = 0.2
"""Parsing the buffer on every key would lag on long scripts: mark after a pause."""


class SqlEditor(TextArea):
    """A TextArea for SQL; enter keeps the current line's indentation."""

    BINDINGS = [
        Binding("ctrl+space,ctrl+@", "complete", "Complete", priority=True,
                tooltip="Complete the word at the cursor: tables, columns, keywords",
                id="query.complete"),
        Binding("ctrl+slash,ctrl+underscore", "toggle_comment", "Comment", show=False,
                tooltip="Comment or uncomment the selected lines", id="query.comment"),
    ]

    @dataclass
    class CompletionWanted(Message):
        """Completions are asked for: the statement up to the cursor, and all of it."""

        editor: SqlEditor
        before: str
        statement: str

        @property
        def control(self) -> SqlEditor:
            return self.editor
    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {"sql-editor--statement"}
    DEFAULT_CSS = """
    SqlEditor > .sql-editor--statement { background: $accent 60%; color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(language="sql", id=id, show_line_numbers=True, soft_wrap=False,
                         tab_behavior="focus")
        self.statement_lines: tuple[int, int] | None = None
        """The first and last line (0-based) of the statement under the cursor."""
        self._mark_timer: Timer | None = None
        self.menu: CompletionMenu | None = None
        """The list completions open in (an overlay of the screen's)."""

    def on_mount(self) -> None:
        self.border_title = "SQL"

    @on(TextArea.SelectionChanged)
    def _cursor_moved(self) -> None:
        self._narrow()
        if self._mark_timer is not None:
            self._mark_timer.stop()
        self._mark_timer = self.set_timer(MARK_DELAY, self.mark_current_statement)

    @property
    def cursor_offset(self) -> int:
        """The cursor as a character offset in the text."""
        row, column = self.cursor_location
        return sum(len(line) + 1 for line in self.text.split("\n")[:row]) + column

    def mark_current_statement(self) -> None:
        """Mark the statement under the cursor and name it, and its lines, in the title."""
        offset = self.cursor_offset
        statements = split_statements(self.text)
        current = statement_at(self.text, offset)
        if current is None:
            self.border_title = "SQL"
            self.mark_statement(None)
            return
        first = self.text.count("\n", 0, current.start) + 1
        last = self.text.count("\n", 0, current.end) + 1
        self.mark_statement((first - 1, last - 1))
        lines = f"line {first}" if first == last else f"lines {first}-{last}"
        self.border_title = (f"SQL · statement {statements.index(current) + 1} of "
                             f"{len(statements)}, {lines}")

    def action_complete(self) -> None:
        """Ask for the completions of the word at the cursor."""
        offset = self.cursor_offset
        current = statement_at(self.text, offset)
        start = current.start if current is not None and current.start <= offset else 0
        end = max(offset, current.end if current else offset)
        self.post_message(self.CompletionWanted(self, self.text[start:offset],
                                                self.text[start:end]))

    def offer(self, candidates: list[str]) -> None:
        """Complete with the only candidate at once, or open the list of them."""
        partial = self._typed_partial()
        if not candidates:
            self.notify("nothing to complete here", timeout=2)
        elif len(candidates) == 1:
            self._insert(partial, candidates[0])
        elif self.menu is not None:
            self.menu.open(candidates, partial, self.cursor_screen_offset)

    def _typed_partial(self) -> str:
        """The part of the word before the cursor that a completion replaces."""
        row, column = self.cursor_location
        return word_at(self.document.get_line(row)[:column]).rpartition(".")[2]

    def _insert(self, partial: str, chosen: str | None) -> None:
        if chosen is None:
            return
        row, column = self.cursor_location
        result = self.replace(chosen, (row, column - len(partial)), (row, column))
        self.move_cursor(result.end_location)

    @on(TextArea.Changed)
    def _narrow(self) -> None:
        if self.menu is not None and self.menu.is_open:
            self.menu.narrow(self._typed_partial())

    def _work_the_list(self, key: str) -> bool:
        """While the list is open, the keys that move in it, choose and close it."""
        menu = self.menu
        if menu is None or not menu.is_open:
            return False
        if key in ("down", "up"):
            menu.action_cursor_down() if key == "down" else menu.action_cursor_up()
        elif key in ("enter", "tab"):
            chosen = menu.chosen
            menu.close()
            self._insert(self._typed_partial(), chosen)
        elif key == "escape":
            menu.close()
        else:
            return False
        return True

    def show_transaction(self, state: str, *, manual: bool, who: str | None) -> None:
        """Say in the border how statements run: the user's transaction ("open",
        "aborted", "lost") or the mode, and as whom."""
        who_text = f"as {who} · " if who else ""
        said = {"aborted": "TRANSACTION ABORTED: ctrl+b rollback",
                "open": "TRANSACTION OPEN: ctrl+o commit, ctrl+b rollback",
                "lost": "TRANSACTION LOST: the connection was lost"}.get(
            state, "manual transactions" if manual else "autocommit")
        self.border_subtitle = who_text + said
        self.set_class(state != "none", "-transaction-open")

    def action_toggle_comment(self) -> None:
        """Comment the selected lines out, or back in."""
        start, end = sorted((self.selection.start, self.selection.end))
        first, last = start[0], end[0]
        lines = self.text.split("\n")[first:last + 1]
        self.replace("\n".join(toggle_comment(lines)), (first, 0), (last, len(lines[-1])))

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
        # brackets); a binding for enter would never see the key. Keys are read here only
        # while the completion list is open, so tab and escape keep their meaning otherwise.
        if self._work_the_list(event.key):
            event.stop()
            event.prevent_default()
            return
        if event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            line = self.document.get_line(self.cursor_location[0])
            indent = line[: len(line) - len(line.lstrip())]
            result = self.replace("\n" + indent, *sorted(self.selection))
            self.move_cursor(result.end_location)
            return
        await super()._on_key(event)
