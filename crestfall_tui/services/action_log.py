"""The studio's own record of every write it committed, per stack: when, on which stack,
the statement with its placeholders, the parameters, and the rows it touched. Kept in the
stack's data dir, newest first when read back."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from crestfall_tui.services.jsonl import JsonLinesFile

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


class ActionLog:
    """The action log of one stack."""

    def __init__(self, stack: str, data_dir: Path) -> None:
        self.stack = stack
        self.file = JsonLinesFile(data_dir / ACTION_LOG_FILE)

    def record(self, statement: str, params: tuple[object, ...], rows: int) -> None:
        self.file.append(asdict(Action(
            at=datetime.now(UTC).isoformat(timespec="seconds"), stack=self.stack,
            statement=statement, params=[None if p is None else str(p) for p in params],
            rows=rows)))

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
        blocks.append(f"-- {action.at}  {action.stack}  {action.rows} row(s)\n"
                      f"{action.statement};" + (f"\n-- parameters: {params}" if params else ""))
    return "\n\n".join(blocks)
