"""The statements that carry out pending changes: built with psycopg.sql, values as
parameters, each update or delete bound to the version of the row that was read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.pending import DEFAULT, Change, PendingChanges, Value
from crestfall_tui.services.relations import TableInfo
from crestfall_tui.services.table_view import Row

if TYPE_CHECKING:
    from psycopg import sql


@dataclass(frozen=True)
class Planned:
    """One statement of a commit, for the change it carries out."""

    change: Change
    statement: sql.Composed
    params: tuple[Any, ...]


class CommitError(CrestfallError):
    """A statement of the commit failed; everything was rolled back, nothing was lost."""

    def __init__(self, change: Change, message: str) -> None:
        super().__init__(message, title="Commit failed, nothing written")
        self.change = change


class Conflict(CrestfallError):
    """A row changed (or went) since it was read; nothing was written."""

    def __init__(self, change: Change, current: Row | None) -> None:
        what = "was deleted or moved" if current is None else "was changed"
        super().__init__(f"the row {what} by someone else since it was read; nothing was "
                         "written", title="Conflict")
        self.change = change
        self.current = current


def plan(table: TableInfo, pending: PendingChanges) -> list[Planned]:
    """The statements of a commit, in the order the changes were made."""
    return [_statement(table, change) for change in pending.changes]


def _statement(table: TableInfo, change: Change) -> Planned:
    from psycopg import sql

    relation = sql.Identifier(table.schema, table.name)
    if change.kind == "insert":
        given = [(name, value) for name, value in change.values.items()
                 if table.column(name).writable or value is DEFAULT]
        if not given:
            return Planned(change, sql.SQL("INSERT INTO {} DEFAULT VALUES").format(relation),
                           ())
        names = sql.SQL(", ").join(sql.Identifier(name) for name, _ in given)
        values, params = _values([value for _, value in given])
        return Planned(change, sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            relation, names, sql.SQL(", ").join(values)), tuple(params))
    assert change.row is not None
    where, where_params = identify(table, change.row)
    if change.kind == "delete":
        return Planned(change, sql.SQL("DELETE FROM {} WHERE {}").format(relation, where),
                       tuple(where_params))
    values, params = _values(list(change.values.values()))
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(name), value)
        for name, value in zip(change.values, values, strict=True))
    return Planned(change, sql.SQL("UPDATE {} SET {} WHERE {}").format(
        relation, assignments, where), tuple(params + where_params))


def _values(values: list[Value]) -> tuple[list[sql.Composable], list[Any]]:
    """Placeholders (or DEFAULT) for values, and the parameters. Text goes untyped, so
    Postgres reads it with the column's own input function, as it would a literal."""
    from psycopg import sql

    parts: list[sql.Composable] = []
    params: list[Any] = []
    for value in values:
        if value is DEFAULT:
            parts.append(sql.SQL("DEFAULT"))
        else:
            parts.append(sql.Placeholder())
            params.append(value)
    return parts, params


def identify(table: TableInfo, row: Row) -> tuple[sql.Composable, list[Any]]:
    """The condition that matches this row, as it was read, and nothing else: its key (or
    ctid) and its version (xmin); for a view, all of its values."""
    from psycopg import sql

    terms: list[sql.Composable] = []
    params: list[Any] = []
    if table.addressing == "key":
        for name in table.primary_key:
            terms.append(sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder()))
            params.append(row.values[table.column_index(name)])
    elif table.addressing == "ctid":
        terms.append(sql.SQL("ctid = {}").format(sql.Placeholder()))
        params.append(row.ctid)
    else:
        for column, value in zip(table.columns, row.values, strict=True):
            terms.append(sql.SQL("{}::text IS NOT DISTINCT FROM {}").format(
                sql.Identifier(column.name), sql.Placeholder()))
            params.append(value)
    if table.has_heap:
        terms.append(sql.SQL("xmin = {}").format(sql.Placeholder()))
        params.append(row.xmin)
    return sql.SQL(" AND ").join(terms), params


def describe(planned: Planned, conn: Any) -> str:
    """The statement as it will run (placeholders as %s) and its parameters."""
    text = planned.statement.as_string(conn) + ";"
    if not planned.params:
        return text
    shown = ", ".join("NULL" if p is None else repr(p) for p in planned.params)
    return f"{text}\n  -- parameters: {shown}"
