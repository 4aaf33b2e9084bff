"""Pending changes to one relation: edits, inserts and deletions held until the user commits
them in one transaction. Nothing typed is lost: a failed commit keeps them all, with the
error on the change it belongs to. Every action can be undone."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from crestfall_tui.services.table_view import Row


class _Default:
    """The column's DEFAULT, as a value a cell can be set to."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = _Default()
Value = str | None | _Default
"""A cell's new value: Postgres's text for it, None for NULL, or DEFAULT."""

Kind = Literal["update", "insert", "delete"]
_ids = itertools.count(1)


@dataclass
class Change:
    """One row's change. An update holds only the columns that change."""

    kind: Kind
    row: Row | None
    """The row as it was read (None for an insert)."""
    values: dict[str, Value] = field(default_factory=dict)
    error: str | None = None
    """Why the last commit failed on this change."""
    id: int = field(default_factory=lambda: next(_ids))


class PendingChanges:
    """The changes to one relation, in the order they were made."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self._undo: list[list[Change]] = []
        self._index: dict[tuple[Any, ...], Change] = {}
        self._indexed: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self.changes)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def counts(self) -> dict[str, int]:
        found = {"update": 0, "insert": 0, "delete": 0}
        for change in self.changes:
            found[change.kind] += 1
        return found

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{counts['update']} changed", f"{counts['insert']} new",
                 f"{counts['delete']} to delete"]
        return ", ".join(part for part in parts if not part.startswith("0 "))

    def for_row(self, row: Row) -> Change | None:
        """The change to a row that was read, if any (the grid asks for every row it
        draws, so the changes are indexed by row; the index follows the list as it is
        replaced or grows and shrinks)."""
        state = (id(self.changes), len(self.changes))
        if self._indexed != state:
            self._index = {change.row.identity: change for change in self.changes
                           if change.row is not None}
            self._indexed = state
        return self._index.get(row.identity)

    def insert(self, values: dict[str, Value]) -> Change:
        self._remember()
        change = Change("insert", None, dict(values))
        self.changes.append(change)
        return change

    def set_cell(self, target: Row | Change, column: str, value: Value,
                 original: Value) -> None:
        """Set a column of a row that was read, or of a new row. Setting a read row back to
        the value it had removes that column from the change."""
        self._remember()
        if isinstance(target, Change):
            target.values[column] = value
            target.error = None
            return
        change = self.for_row(target)
        if change is None:
            if value == original and not isinstance(value, _Default):
                self._undo.pop()
                return
            self.changes.append(Change("update", target, {column: value}))
            return
        if change.kind == "delete":
            change.kind = "update"
            change.values = {}
        change.error = None
        if value == original and not isinstance(value, _Default):
            change.values.pop(column, None)
            if not change.values:
                self.changes.remove(change)
        else:
            change.values[column] = value

    def toggle_delete(self, target: Row | Change) -> None:
        """Mark a read row for deletion (again: unmark it); a new row is simply dropped."""
        self._remember()
        if isinstance(target, Change):
            self.changes.remove(target)
            return
        change = self.for_row(target)
        if change is None:
            self.changes.append(Change("delete", target))
        elif change.kind == "delete":
            self.changes.remove(change)
        else:  # a changed row to delete: its edits no longer matter
            change.kind = "delete"
            change.values = {}
            change.error = None

    def revert(self, target: Row | Change, column: str | None = None) -> bool:
        """Drop the change to a row, or to one of its cells; False when there was none."""
        change = target if isinstance(target, Change) else self.for_row(target)
        if change is None or (column is not None and column not in change.values):
            return False
        self._remember()
        if column is None or change.kind == "delete":
            self.changes.remove(change)
        elif change.kind == "insert":
            del change.values[column]
        else:
            del change.values[column]
            if not change.values:
                self.changes.remove(change)
        return True

    def undo(self) -> bool:
        """Go back one action; False when there is nothing to undo."""
        if not self._undo:
            return False
        self.changes = self._undo.pop()
        return True

    def reset(self) -> None:
        """Nothing pending and nothing to undo (another relation is open)."""
        self.changes = []
        self._undo = []

    def rebase(self, change: Change, current: Row) -> None:
        """Take the row's current version as the one the change applies to (after the user
        chose to keep their edit over someone else's)."""
        self._remember()
        change.row = current
        change.error = None

    def _remember(self) -> None:
        self._undo.append(copy.deepcopy(self.changes))
        del self._undo[:-200]


def shown_value(change: Change | None, column: str, read: Any) -> Any:
    """What a cell shows: its pending new value, or what was read."""
    if change is not None and column in change.values:
        value = change.values[column]
        return "DEFAULT" if isinstance(value, _Default) else value
    return read
