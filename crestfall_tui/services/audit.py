"""The stack's row audit (40_audit.sql): which tables `audit.track()` records, tracking and
untracking one, and the changes recorded in `audit.record_changes`, newest first, paged by
key (never counted whole: the table grows with every write). No Textual here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.calls import Calls, all_of

PAGE = 100
TRIGGER = "crestfall_audit"
"""The trigger `audit.track()` puts on a table."""


class AuditError(CrestfallError):
    def __init__(self, message: str) -> None:
        super().__init__(message, title="Audit")


@dataclass(frozen=True)
class TrackedTable:
    table: str
    tracked: bool
    enabled: bool
    """The trigger fires (it can be disabled with ALTER TABLE ... DISABLE TRIGGER)."""


@dataclass(frozen=True)
class Change:
    id: int
    table: str
    op: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    actor: str | None
    db_role: str
    changed_at: datetime

    def changed_columns(self) -> list[str]:
        """The columns an UPDATE changed (every column for an INSERT or DELETE)."""
        old, new = self.old or {}, self.new or {}
        return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "table": self.table, "op": self.op, "old": self.old,
                "new": self.new, "actor": self.actor, "db_role": self.db_role,
                "changed_at": self.changed_at.isoformat()}


class Audit:
    """Row audit of the stack's tables, through one connection per call."""

    def __init__(self, postgres: PostgresClient) -> None:
        self.postgres = postgres
        self.calls = Calls(postgres, AuditError)

    async def close(self) -> None:
        """Close the connection kept between calls."""
        await self.calls.close()

    async def tables(self) -> list[TrackedTable]:
        """Every table outside the system's and the audit's own schemas, tracked or not."""
        async with self.calls.connection() as conn:
            rows = await (await conn.execute(
                "select c.oid::regclass::text, t.oid is not null, "
                "coalesce(t.tgenabled <> 'D', false) "
                "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "left join pg_trigger t on t.tgrelid = c.oid and t.tgname = %s "
                "where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', "
                "'information_schema', 'pg_toast', 'audit', 'cron') "
                "and n.nspname not like 'pg_temp%%' order by 2 desc, 1", (TRIGGER,))).fetchall()
        return [TrackedTable(str(name), bool(tracked), bool(on)) for name, tracked, on in rows]

    async def track(self, table: str) -> None:
        """Record every insert, update and delete on `table` from now on."""
        await self._call("select audit.track(%s::regclass)", table)

    async def untrack(self, table: str) -> None:
        await self._call("select audit.untrack(%s::regclass)", table)

    async def changes(self, *, table: str | None = None, actor: str | None = None,
                      before: int | None = None, limit: int = PAGE) -> list[Change]:
        """The latest changes (to `table`, or by the auth user `actor`), newest first, the
        page before the change id `before`. Read by index (record_changes_table_idx,
        record_changes_actor_idx and the key), whatever the table's size."""
        conditions: list[str] = ["true"]
        params: list[Any] = []
        if table is not None:
            conditions.append("table_oid = %s::regclass")
            params.append(table)
        if actor is not None:
            conditions.append("actor = %s::uuid")
            params.append(actor)
        if before is not None:
            conditions.append("id < %s")
            params.append(before)
        from psycopg import sql

        async with self.calls.connection() as conn:
            # The conditions are this function's own fragments; every value a parameter.
            rows = await (await conn.execute(sql.SQL(
                "select id, table_schema || '.' || table_name, op, old_record::text, "
                "new_record::text, actor::text, db_role, changed_at "
                "from audit.record_changes where {} order by id desc limit %s").format(
                    all_of(conditions)),
                [*params, limit])).fetchall()
        return [Change(int(i), str(t), str(op), _object(old), _object(new),
                       None if actor_id is None else str(actor_id), str(role), at)
                for i, t, op, old, new, actor_id, role, at in rows]

    async def _call(self, statement: str, table: str) -> None:
        import psycopg

        async with self.calls.connection() as conn:
            try:
                await conn.execute(statement, (table,))
            except psycopg.errors.UndefinedTable:
                raise AuditError(f"no table {table!r}") from None
            except psycopg.errors.UndefinedFunction:
                raise AuditError("this database has no audit schema (the stack's "
                                 "40_audit.sql makes it)") from None


def _object(text: Any) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(str(text)))
