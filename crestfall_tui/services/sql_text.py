"""SQL text as the Query screen sees it: statements with their place in the buffer, what
kind each is, and which ones deserve a second look before they run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One statement of a buffer, with its character span there."""

    text: str
    start: int
    end: int
    kind: str
    """sqlparse's type: SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, ... or UNKNOWN."""

    @property
    def streams(self) -> bool:
        """True when the statement can run behind a server-side cursor (rows on demand)."""
        first = self.text.lstrip().split(None, 1)[0].lower() if self.text.strip() else ""
        return self.kind == "SELECT" and first in ("select", "with", "values", "table", "(")


def split_statements(buffer: str) -> list[Statement]:
    """The statements of a buffer in order; comments and blanks around them are left out."""
    import sqlparse  # lazy: off the first frame

    found = []
    offset = 0
    for parsed in sqlparse.parse(buffer):
        position, first, last = offset, None, None
        for token in parsed.flatten():
            if not (token.is_whitespace or token.ttype in sqlparse.tokens.Comment
                    or token.value == ";"):
                first = position if first is None else first
                last = position + len(token.value)
            position += len(token.value)
        if first is not None and last is not None:
            found.append(Statement(text=buffer[first:last], start=first, end=last,
                                   kind=parsed.get_type()))
        offset += len(str(parsed))
    return found


def statement_at(buffer: str, position: int) -> Statement | None:
    """The statement the cursor is in (or just after), as editors mark the current one."""
    statements = split_statements(buffer)
    for statement in statements:
        if statement.start <= position <= statement.end:
            return statement
    before = [s for s in statements if s.end <= position]
    return before[-1] if before else (statements[0] if statements else None)


def confirmation_reason(statement: Statement) -> str | None:
    """Why running this statement deserves a confirmation, or None."""
    import sqlparse
    from sqlparse.sql import Where

    parsed = sqlparse.parse(statement.text)[0]
    has_where = any(isinstance(token, Where) for token in parsed.tokens)
    words = [t.normalized for t in parsed.flatten() if t.ttype in sqlparse.tokens.Keyword
             or t.ttype in sqlparse.tokens.Keyword.DDL or t.ttype in sqlparse.tokens.Keyword.DML]
    if statement.kind in ("DELETE", "UPDATE") and not has_where:
        return f"{statement.kind} without WHERE changes every row of the table"
    if statement.kind == "DROP":
        return "DROP removes the object and everything in it"
    if "TRUNCATE" in words:
        return "TRUNCATE empties the table"
    if statement.kind == "ALTER" and "DROP" in words:
        return "ALTER ... DROP removes part of the object and its data"
    return None


def toggle_comment(lines: list[str]) -> list[str]:
    """Comment the lines out with `-- ` at their common indent, or, when every non-blank line
    already is, take the comment marks off."""
    filled = [line for line in lines if line.strip()]
    if not filled:
        return lines
    if all(line.lstrip().startswith("--") for line in filled):
        return [_uncomment(line) for line in lines]
    indent = min(len(line) - len(line.lstrip()) for line in filled)
    return [line[:indent] + "-- " + line[indent:] if line.strip() else line for line in lines]


def _uncomment(line: str) -> str:
    stripped = line.lstrip()
    if not stripped.startswith("--"):
        return line
    rest = stripped[2:]
    return line[: len(line) - len(stripped)] + (rest[1:] if rest.startswith(" ") else rest)
