"""The studio's own record of every write it committed, per stack: when, from which
section, in which database and as whom, the statement (with its placeholders and parameters,
or as the user typed it), Postgres's command tag and the rows it touched. Kept in the stack's
data dir, newest first when read back.

A write inside a transaction is recorded when that transaction commits, and never when it
rolls back (`TransactionWrites`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crestfall_tui.services.jsonl import JsonLinesFile
from crestfall_tui.services.sql_text import Statement

ACTION_LOG_FILE = "actions.jsonl"
READ_LIMIT = 2000


@dataclass(frozen=True)
class Action:
    """One committed statement."""

    at: str
    """UTC, ISO 8601."""
    stack: str
    statement: str
    params: list[str | None]
    rows: int
    source: str = "tables"
    """The part of the studio that wrote: "tables" (edits), "import" (a CSV file), "query"."""
    tag: str = ""
    """Postgres's command tag, e.g. `UPDATE 3`, `CREATE TABLE`."""
    run_as: str = ""
    """The role or auth user it ran as; empty for the stack's own login."""
    database: str = ""


@dataclass(frozen=True)
class Write:
    """A write that ran, before it is known to be committed."""

    statement: str
    params: tuple[object, ...] = ()
    rows: int = 0
    source: str = "query"
    tag: str = ""
    run_as: str = ""
    database: str = ""


class ActionLog:
    """The action log of one stack."""

    def __init__(self, stack: str, data_dir: Path) -> None:
        self.stack = stack
        self.file = JsonLinesFile(data_dir / ACTION_LOG_FILE)

    def record(self, write: Write) -> None:
        self.file.append(asdict(Action(
            at=datetime.now(UTC).isoformat(timespec="seconds"), stack=self.stack,
            statement=write.statement,
            params=[None if p is None else str(p) for p in write.params], rows=write.rows,
            source=write.source, tag=write.tag, run_as=write.run_as,
            database=write.database)))

    def entries(self) -> list[Action]:
        found = []
        for record in self.file.newest_first(READ_LIMIT):
            try:
                found.append(Action(**record))
            except TypeError:
                continue
        return found


def action_text(actions: list[Action]) -> str:
    """The log as text to read, newest first."""
    if not actions:
        return "Nothing committed from the studio on this stack yet."
    blocks = []
    for action in actions:
        params = ", ".join("NULL" if p is None else repr(p) for p in action.params)
        where = "  ".join(part for part in (
            action.stack + (f"/{action.database}" if action.database else ""), action.source,
            f"as {action.run_as}" if action.run_as else "",
            action.tag or f"{action.rows} row(s)") if part)
        statement = action.statement.rstrip().rstrip(";")
        blocks.append(f"-- {action.at}  {where}\n{statement};"
                      + (f"\n-- parameters: {params}" if params else ""))
    return "\n\n".join(blocks)


# Command tags of statements that change nothing a commit keeps: reads, transaction and
# session control, maintenance. Everything else (DML, DDL, GRANT, CALL, DO, ...) is a write.
_READ_TAGS = frozenset({
    "SELECT", "SHOW", "EXPLAIN", "FETCH", "MOVE", "DECLARE", "CLOSE", "SET", "RESET",
    "BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "LISTEN", "UNLISTEN",
    "NOTIFY", "DISCARD", "PREPARE", "DEALLOCATE", "LOCK", "LOAD", "CHECKPOINT", "VACUUM",
    "ANALYZE"})
_COPY_FROM = re.compile(r"(?is)copy\s+[^(].*?\bfrom\b")
_EXPLAIN_ANALYZE_WRITE = re.compile(
    r"(?is)explain\s*(?:\([^)]*\banaly[sz]e\b[^)]*\)|analy[sz]e\b)\W*.*?"
    r"\b(?:insert|update|delete|merge)\b")


def is_write(statement: Statement, tag: str) -> bool:
    """Whether a statement that ran with this command tag changed the database (once
    committed)."""
    word = tag.split(" ", 1)[0].upper()
    if word == "SELECT":  # CREATE TABLE AS and CREATE MATERIALIZED VIEW say SELECT n too
        return statement.first_word == "create"
    if word == "COPY":
        return bool(_COPY_FROM.match(statement.text))
    if word == "EXPLAIN":
        return bool(_EXPLAIN_ANALYZE_WRITE.match(statement.text))
    return bool(word) and word not in _READ_TAGS


_SAVEPOINT_NAME = re.compile(
    r"(?is)(?:savepoint|release(?:\s+savepoint)?|rollback(?:\s+(?:work|transaction))?"
    r"\s+to(?:\s+savepoint)?)\s+(\"(?:[^\"]|\"\")+\"|\w+)")


def _savepoint(statement: Statement) -> str | None:
    match = _SAVEPOINT_NAME.match(statement.text.strip())
    if match is None:
        return None
    name = match.group(1)
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


@dataclass
class TransactionWrites:
    """The writes a session ran that its open transaction has not committed yet: logged
    when it commits, dropped when it rolls back (or back to a savepoint taken before them)."""

    log: ActionLog | None
    writes: list[Write] = field(default_factory=list)
    savepoints: list[tuple[str, int]] = field(default_factory=list)

    def ran(self, statement: Statement, write: Write, *, in_transaction: bool) -> None:
        """`statement` ended with `write.tag`; `in_transaction`: the user's transaction is
        (still) open after it."""
        if self.log is None:
            return
        word = write.tag.split(" ", 1)[0].upper()
        if statement.controls_transaction:
            if word == "SAVEPOINT" and (name := _savepoint(statement)):
                self.savepoints.append((name, len(self.writes)))
            elif word == "RELEASE" and (name := _savepoint(statement)):
                self._back_to(name, release=True)
            elif word == "ROLLBACK" and in_transaction and (name := _savepoint(statement)):
                self._back_to(name, release=False)
            elif word in ("COMMIT", "ROLLBACK") or not in_transaction:
                # COMMIT of an aborted transaction answers ROLLBACK; AND CHAIN opens the next.
                self.ended(committed=word == "COMMIT")
        elif is_write(statement, write.tag):
            if in_transaction:
                self.writes.append(write)
            else:
                self.log.record(write)

    def _back_to(self, name: str, *, release: bool) -> None:
        for at in range(len(self.savepoints) - 1, -1, -1):
            if self.savepoints[at][0] == name:
                mark = self.savepoints[at][1]
                del self.savepoints[at if release else at + 1:]
                if not release:
                    del self.writes[mark:]
                return

    def ended(self, *, committed: bool) -> None:
        """The transaction ended: its writes are logged if it committed."""
        if committed and self.log is not None:
            for write in self.writes:
                self.log.record(write)
        self.writes.clear()
        self.savepoints.clear()
