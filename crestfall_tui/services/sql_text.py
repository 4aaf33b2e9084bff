"""SQL text as the Query screen and `crestfall-tui query` see it: statements with their place
in the input, what kind each is, and which ones deserve a second look before they run."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

_STREAMING_WORDS = ("select", "with", "values", "table", "(")
_TRANSACTION_WORDS = ("begin", "start", "commit", "end", "rollback", "abort", "savepoint",
                      "release")


@dataclass(frozen=True)
class Statement:
    """One statement of an input, with its character span there and the line it starts on."""

    text: str
    start: int
    end: int
    line: int = 1
    """The 1-based line of the input the statement starts on."""
    number: int = 1
    """The statement's 1-based place in the input."""

    @cached_property
    def first_word(self) -> str:
        """The statement's first word, lower case ("(" for a parenthesised query)."""
        match = _FIRST_WORD.match(self.text)
        return match.group(0).lower() if match else ""

    @cached_property
    def kind(self) -> str:
        """sqlparse's type: SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, ... or
        UNKNOWN."""
        import sqlparse  # lazy: only the statements that need it pay for the parse

        return str(sqlparse.parse(self.text)[0].get_type())

    @property
    def streams(self) -> bool:
        """True when the statement can run behind a server-side cursor (rows on demand)."""
        return self.first_word in _STREAMING_WORDS and self.kind == "SELECT"

    @property
    def controls_transaction(self) -> bool:
        """BEGIN, COMMIT, ROLLBACK, SAVEPOINT and the like: the user's own transaction."""
        return self.first_word in _TRANSACTION_WORDS

    @property
    def first_line(self) -> str:
        """The statement's first line, for naming it in a message."""
        return self.text.split("\n", 1)[0]


_FIRST_WORD = re.compile(r"\(|[^\W\d]\w*")


@dataclass(frozen=True)
class CopyData:
    """Lines of data that follow a `COPY ... FROM STDIN` statement in a script, as psql reads
    them (pg_dump's plain format writes its rows so): from the line after the statement up
    to a line `\\.`, or the end of the input. A long run of data comes in several pieces."""

    text: str
    last: bool = False
    """The data ends here: the COPY is complete."""


@dataclass(frozen=True)
class MetaCommand:
    """A psql meta-command line of a script (`\\restrict KEY` in pg_dump's output)."""

    text: str
    line: int

    @property
    def name(self) -> str:
        return self.text[1:].split(None, 1)[0] if len(self.text) > 1 else ""


_META_START = re.compile(r"[ \t\r\n]*\\")
_META = re.compile(r"[ \t\r\n]*(\\[^\n]*)\n")
_COPY_FROM_STDIN = re.compile(r"(?is)copy\b.*\bfrom\s+stdin\b")
_END_OF_DATA = re.compile(r"^\\\.\r?$", re.MULTILINE)

# What can change how the text around it is read: comments, quotes, dollar quotes, parens and
# the semicolon. An identifier may hold `$`, so `a$b$` is no dollar quote, and E'' strings
# only start where no identifier does. Inside CREATE FUNCTION/PROCEDURE, BEGIN/CASE/END too.
_SPECIAL = r"""--|/\*|(?<![\w$])[eE]'|'|"|(?<![\w$])\$(?:[^\W\d]\w*)?\$|[();]"""
_TOKEN = re.compile(_SPECIAL)
_ROUTINE_TOKEN = re.compile(_SPECIAL + r"|(?i:\b(?:begin|case|end)\b)")
_ROUTINE = re.compile(r"(?i)create\s+(?:or\s+replace\s+)?(?:function|procedure)\b")
_NON_SPACE = re.compile(r"\S")
_QUOTE_END = {"'": re.compile(r"[^']*(?:''[^']*)*'"),
              '"': re.compile(r'[^"]*(?:""[^"]*)*"'),
              "e'": re.compile(r"(?:[^'\\]|\\.|'')*'", re.DOTALL)}


class StatementReader:
    """Splits SQL into statements as its text arrives, with psql's rules: `;` ends a statement
    outside quotes, comments and parentheses, and outside a BEGIN ... END body of CREATE
    FUNCTION/PROCEDURE.

    Written by hand because a script of any size must run as it is read, in bounded memory:
    sqlparse reads its whole input and builds a token tree of it (2.4 GB for a 50 MB script).
    Feed it whole lines; the statements it returns are complete. With `script`, it reads as
    psql reads a script file: the lines after a `COPY ... FROM STDIN` are its data
    (`CopyData`), and a line that starts with a backslash where a statement would start is
    a psql meta-command (`MetaCommand`).
    """

    def __init__(self, *, script: bool = False) -> None:
        self._script = script
        self._copying = False
        """Reading a COPY's data."""
        self._to_next_line = False
        """The COPY statement's own line has yet to end: its data starts on the next."""
        self._buf = ""
        self._origin = 0
        """Where the current statement's text starts in `_buf`."""
        self._base = 0
        """Offset of `_buf[0]` in the whole input."""
        self._line = 1
        """Line of `_buf[_origin]`."""
        self._scan = 0
        self._parens = 0
        self._begins = 0
        self._first: int | None = None
        self._last = 0
        self._routine = False
        self._count = 0

    def feed(self, text: str, *, final: bool = False) -> list[Any]:
        """The statements completed by `text` (and COPY data and meta-commands, with
        `script`); with `final`, the last one without its `;`."""
        if self._origin:
            # Done statements leave the buffer here, once per feed, not once per statement.
            self._buf = self._buf[self._origin:]
            self._base += self._origin
            self._scan -= self._origin
            if self._first is not None:
                self._first -= self._origin
                self._last -= self._origin
            self._origin = 0
        self._buf += text
        if final and self._script and self._buf and not self._buf.endswith("\n"):
            self._buf += "\n"  # a script's lines are whole: its last one too
        found = self._split()
        if final and self._copying:  # the input ends the data
            found.append(CopyData("" if self._to_next_line else self._buf[self._scan:],
                                  last=True))
            self._copying = False
            self._reset(len(self._buf))
        elif final:
            self._scan = len(self._buf)
            if self._first is not None:
                found.append(self._take(len(self._buf)))
            self._reset(len(self._buf))
        return found

    def _split(self) -> list[Any]:
        found: list[Any] = []
        buf = self._buf
        while True:
            if self._copying and self._copy(found):
                return found
            if self._script and self._first is None and _META_START.match(buf, self._scan):
                meta = _META.match(buf, self._scan)
                if meta is None:  # its line has not all arrived
                    return found
                line = self._line + buf.count("\n", self._origin, meta.start(1))
                found.append(MetaCommand(meta.group(1).rstrip(), line))
                self._reset(meta.end())
                continue
            pattern = _ROUTINE_TOKEN if self._routine else _TOKEN
            match = pattern.search(buf, self._scan)
            stop = match.start() if match else len(buf)
            self._code(self._scan, stop)
            if match is None:
                self._scan = len(buf)
                return found
            token = match.group(0)
            end = match.end()
            if token == ";":
                if self._parens == 0 and self._begins == 0:
                    if self._first is not None:
                        statement = self._take(end)
                        found.append(statement)
                        if self._script and _COPY_FROM_STDIN.match(statement.text):
                            self._copying = self._to_next_line = True
                    self._reset(end)
                    continue
                self._mark(match.start(), end)
            elif token in ("--", "/*"):
                closed = self._comment_end(token, end)
                if closed is None:
                    self._scan = match.start()
                    return found
                end = closed
            else:
                if token[0] in "'\"" or token[0] in "eE" and token[-1] == "'":
                    key = "e'" if token[0] in "eE" else token
                    quoted = _QUOTE_END[key].match(buf, end)
                    if quoted is None:
                        self._scan = match.start()
                        return found
                    end = quoted.end()
                elif token[0] == "$":
                    closing = buf.find(token, end)
                    if closing < 0:
                        self._scan = match.start()
                        return found
                    end = closing + len(token)
                else:
                    self._word_or_paren(token)
                self._mark(match.start(), end)
            self._scan = end

    def _copy(self, found: list[Any]) -> bool:
        """Take the COPY's data that has arrived: whole lines, up to the line `\\.`; True
        while more is to come."""
        buf, start = self._buf, self._scan
        if self._to_next_line:
            newline = buf.find("\n", start)
            if newline < 0:
                return True
            start = newline + 1
            self._to_next_line = False
        end = _END_OF_DATA.search(buf, start)
        if end is None:
            upto = buf.rfind("\n", start) + 1  # whole lines only
            if upto > start:
                found.append(CopyData(buf[start:upto]))
            self._reset(max(upto, start))
            return True
        found.append(CopyData(buf[start:end.start()], last=True))
        self._copying = False
        self._reset(end.end() + 1 if buf.startswith("\n", end.end()) else end.end())
        return False

    def _word_or_paren(self, token: str) -> None:
        if token == "(":
            self._parens += 1
        elif token == ")":
            self._parens = max(0, self._parens - 1)
        elif self._parens == 0:
            word = token.lower()
            if word == "begin" or word == "case" and self._begins:
                self._begins += 1
            elif word == "end" and self._begins:
                self._begins -= 1

    def _comment_end(self, token: str, start: int) -> int | None:
        """Where a comment ends, or None when the text so far does not hold its end."""
        if token == "--":
            newline = self._buf.find("\n", start)
            return None if newline < 0 else newline
        depth, at = 1, start
        while depth:
            close = self._buf.find("*/", at)
            if close < 0:
                return None
            opened = self._buf.find("/*", at, close)
            if opened >= 0:
                depth, at = depth + 1, opened + 2
            else:
                depth, at = depth - 1, close + 2
        return at

    def _code(self, start: int, stop: int) -> None:
        """Plain SQL between special tokens: where the statement starts and ends."""
        if start >= stop:
            return
        first = _NON_SPACE.search(self._buf, start, stop)
        if first is not None:
            self._mark(first.start(), len(self._buf[start:stop].rstrip()) + start)

    def _mark(self, start: int, end: int) -> None:
        if self._first is None:
            self._first = start
            self._routine = _ROUTINE.match(self._buf, start) is not None
        self._last = end

    def _take(self, end: int) -> Statement:
        assert self._first is not None
        first, last = self._first, self._last
        self._count += 1
        line = self._line + self._buf.count("\n", self._origin, first)
        return Statement(text=self._buf[first:last], start=self._base + first,
                         end=self._base + last, line=line, number=self._count)

    def _reset(self, end: int) -> None:
        """The next statement starts at `end`."""
        self._line += self._buf.count("\n", self._origin, end)
        self._origin = self._scan = end
        self._parens = self._begins = 0
        self._first = None
        self._last = 0
        self._routine = False


def iter_statements(chunks: Iterable[str]) -> Iterator[Statement]:
    """Statements as the chunks (each ending at a line's end) arrive, the last one included."""
    reader = StatementReader()
    for chunk in chunks:
        yield from reader.feed(chunk)
    yield from reader.feed("", final=True)


def split_statements(buffer: str) -> list[Statement]:
    """The statements of a buffer in order; comments and blanks around them are left out."""
    return StatementReader().feed(buffer, final=True)


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
