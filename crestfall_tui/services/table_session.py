"""The Tables screen's connection: the tree, pages of rows, counts, checks of typed values,
and commits of pending changes. Rows load as Postgres's own text, so what the grid shows,
what the user edits and what goes back are the same spelling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crestfall_tui.clients.copy_out import CopyCount, copy_out
from crestfall_tui.clients.postgres import (
    PostgresClient,
    load_as_text,
    server_closed,
    with_params,
)
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.action_log import ActionLog, Write
from crestfall_tui.services.csv_import import CsvPlan, copy_statement, load_csv
from crestfall_tui.services.export import ExportReport, export_format, write_export
from crestfall_tui.services.pending import PendingChanges
from crestfall_tui.services.relations import (
    ColumnInfo,
    Relation,
    TableInfo,
    list_relations,
    load_table,
)
from crestfall_tui.services.run_as import RunAs, resolve_run_as, role_scope
from crestfall_tui.services.table_edits import CommitError, Conflict, Planned, plan
from crestfall_tui.services.table_view import Row, TableView

if TYPE_CHECKING:
    import psycopg

PAGE_SIZE = 200
FIRST_SPAN = 64
"""Blocks (8 kB each) a physical page reads first; eight times more each time it falls short."""
MAX_BLOCK = 4294967295


@dataclass
class TableSession:
    """One connection for the Tables screen; reads and commits run one at a time."""

    postgres: PostgresClient
    run_as: RunAs | None = None
    """Read and write as this role or auth user (row-level security applies)."""
    log: ActionLog | None = None
    """Where committed edits and imports are recorded (the studio's action log)."""
    _conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
    _rows: psycopg.AsyncCursor[tuple[Any, ...]] | None = None
    _texts: dict[int, tuple[Any, bytes]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One piece of work at a time on the connection: workers run side by side, and two
    transactions interleaved on one connection would nest wrongly."""

    async def connection(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        """The session's connection: opened again when the server closed it (a restart),
        so the first read or commit after it does not fail on the old one."""
        if self._conn is not None and server_closed(self._conn):
            await self._conn.close()
        if self._conn is None or self._conn.closed:
            self._conn = await self.postgres.open()
            self._rows = self._conn.cursor()
            load_as_text(self._rows.adapters)
        return self._conn

    @asynccontextmanager
    async def _using(self) -> AsyncIterator[psycopg.AsyncConnection[tuple[Any, ...]]]:
        """The connection, held for one piece of work."""
        async with self._lock:
            yield await self.connection()

    def _row_cursor(self) -> psycopg.AsyncCursor[tuple[Any, ...]]:
        """The cursor that loads values as text (the connection must be open)."""
        assert self._rows is not None
        return self._rows

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()

    @property
    def read_only(self) -> bool:
        return self.postgres.read_only

    def scope(self, conn: Any) -> Any:
        """Where reads and writes run: as the role viewed as, and read-only for good on a
        read-only stack (see `role_scope`)."""
        return role_scope(conn, self.run_as, read_only=self.postgres.read_only,
                          reader=self.postgres.reader_role)

    async def view_as(self, answer: str) -> None:
        """Browse and edit as what the user typed: empty for the superuser, an API role,
        or an auth user's id or email."""
        async with self._using() as conn:
            self.run_as = await resolve_run_as(conn, answer)

    async def relations(self) -> list[Relation]:
        async with self._using() as conn, self.scope(conn):
            return await list_relations(conn)

    async def table(self, schema: str, name: str) -> TableInfo:
        """A relation in detail, read afresh (its columns may have changed)."""
        async with self._using() as conn:
            return await load_table(conn, schema, name)

    async def page(self, view: TableView, where: str, anchor: Row | None = None,
                   limit: int = PAGE_SIZE) -> list[Row]:
        """A page of rows, in the view's order: first, last, after / before / from an
        anchor row."""
        if view.physical:
            return await self._physical_page(view, where, anchor, limit)
        offset = 0
        if not view.keyset:
            offset = await self._offset(view, where, anchor, limit)
            if where == "before":
                limit = min(limit, (anchor.position or 0) if anchor else 0)
                if limit == 0:
                    return []
        statement, params, reverse = view.page(where, anchor, limit, offset)
        records = await self._fetch(statement, params)
        if reverse:
            records.reverse()
        return [view.make_row(record, offset + index if not view.keyset else None)
                for index, record in enumerate(records)]

    async def _physical_page(self, view: TableView, where: str, anchor: Row | None,
                             limit: int) -> list[Row]:
        """A page in ctid order, read from a stretch of blocks next to the anchor (or at
        an end) that grows eightfold until it holds the page or reaches the end of the
        relation: a TID range scan sorts only what it reads, so a page of a huge table
        without a key costs a few blocks instead of a sort of everything after it."""
        total = await self._block_count(view)
        start = _block(anchor.ctid) if anchor is not None and anchor.ctid else None
        forward = where in ("first", "after", "from")
        span = FIRST_SPAN
        while True:
            if forward:
                first = start if start is not None else 0
                last = first + span
                whole = last >= total
                if whole:
                    last = MAX_BLOCK  # and any block added since the count
            else:
                end = total if start is None else start + 1
                first = max(0, end - span)
                last = MAX_BLOCK if start is None else end
                whole = first == 0
            statement, params, reverse = view.page(where, anchor, limit,
                                                   blocks=(first, last))
            records = await self._fetch(statement, params)
            if len(records) >= limit or whole:
                break
            span *= 8
        if reverse:
            records.reverse()
        return [view.make_row(record) for record in records]

    async def _block_count(self, view: TableView) -> int:
        """The relation's size in blocks, now."""
        from psycopg import sql

        found = await self._fetch(sql.SQL(
            "SELECT pg_relation_size(%s::oid) / current_setting('block_size')::int"),
            [view.table.oid])
        return int(found[0][0])

    async def _offset(self, view: TableView, where: str, anchor: Row | None,
                      limit: int) -> int:
        position = (anchor.position or 0) if anchor is not None else 0
        if where == "last":
            return max(0, await self.count(view) - limit)
        if where == "after":
            return position + 1
        if where == "before":
            return max(0, position - limit)
        return position if where == "from" else 0

    async def _fetch(self, statement: Any, params: list[Any]) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            async with self._using() as conn, self.scope(conn):
                cursor = self._row_cursor()
                await cursor.execute(self._bytes(statement, conn), params)
                return await cursor.fetchall()
        except psycopg.Error as error:
            raise CrestfallError(_message(error), title="Tables") from None

    def _bytes(self, statement: Any, conn: Any) -> bytes:
        """The statement's text, kept for the statement objects a view reuses (its pages)."""
        kept = self._texts.get(id(statement))
        if kept is None or kept[0] is not statement:
            kept = (statement, with_params(statement, conn))
            if len(self._texts) > 64:
                self._texts.clear()
            self._texts[id(statement)] = kept
        return kept[1]

    async def estimate(self, view: TableView) -> int:
        """The planner's estimate of the rows the view's filters let through: instant on
        any size, as reltuples is, and it follows the filters."""
        from psycopg import AsyncClientCursor, sql

        condition, params = view.where()
        statement = sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {} WHERE {}").format(
            view.relation(), condition)
        try:
            async with self._using() as conn, self.scope(conn):
                # EXPLAIN takes no server-side parameters; psycopg binds them client-side.
                cursor = AsyncClientCursor(conn)
                await cursor.execute(with_params(statement, conn), params)
                found = await cursor.fetchone()
                assert found is not None
                (plan_json,) = found
        except Exception as error:
            raise CrestfallError(_message(error), title="Tables") from None
        document = plan_json if isinstance(plan_json, list) else json.loads(plan_json)
        return int(document[0]["Plan"]["Plan Rows"])

    async def count(self, view: TableView) -> int:
        """The exact number of rows (a full scan on a big table: only on request)."""
        statement, params = view.count()
        (found,) = (await self._fetch(statement, params))[0]
        return int(found)

    async def row_where(self, view: TableView, values: dict[str, str]) -> Row | None:
        """The first row (in the view's order, within its filters) whose columns have
        these values."""
        from dataclasses import replace

        from crestfall_tui.services.table_view import Filter

        narrowed = replace(view, filters=view.filters + tuple(
            Filter(name, "=", value) for name, value in values.items()))
        rows = await self.page(narrowed, "first", limit=1)
        return rows[0] if rows else None

    async def current(self, table: TableInfo, row: Row) -> Row | None:
        """The row as it is now, for a conflict (None when it is gone, or when only its
        old address was known)."""
        if table.addressing != "key":
            return None
        view = TableView(table)
        key = {name: row.values[table.column_index(name)] or "" for name in table.primary_key}
        return await self.row_where(view, key)

    async def check_value(self, column: ColumnInfo, text: str) -> None:
        """Postgres's own verdict on text for a column's type (a date, a number in range,
        an enum label, an array): its error message if it refuses."""
        import psycopg
        from psycopg import sql

        if column.base_type in ("json", "jsonb"):
            check_json(text, column.name)
        # format_type's output is the server's own quoted SQL spelling of the type; its
        # `%`, if any, doubled as in any statement that has parameters.
        statement = sql.SQL("SELECT CAST({} AS {})").format(
            sql.Placeholder(), sql.SQL(column.type_sql.replace("%", "%%")))
        try:
            async with self._using():
                await self._row_cursor().execute(statement, [text])
        except psycopg.Error as error:
            raise CrestfallError(f"{column.name}: {_message(error)}",
                                 title="Invalid value") from None

    async def describe(self, table: TableInfo, pending: PendingChanges) -> list[str]:
        """Each statement a commit would run, with its parameters."""
        from crestfall_tui.services.table_edits import describe

        async with self._using() as conn:
            return [describe(planned, conn) for planned in plan(table, pending)]

    async def commit(self, table: TableInfo,
                     pending: PendingChanges) -> list[tuple[Planned, int]]:
        """Every pending change in one transaction. An update or delete that finds no row
        (changed since it was read) or more than one stops it; any failure rolls back all
        of it and leaves the pending changes as they were, the error on its change."""
        import psycopg

        steps = plan(table, pending)
        done: list[tuple[Planned, int]] = []
        try:
            async with self._using() as conn, conn.transaction(), \
                    self.scope(conn):
                for step in steps:
                    try:
                        cursor = await conn.execute(with_params(step.statement, conn), step.params)
                    except psycopg.Error as error:
                        step.change.error = _message(error)
                        raise CommitError(step.change, _message(error)) from None
                    if step.change.kind != "insert" and cursor.rowcount != 1:
                        if cursor.rowcount == 0:
                            raise Conflict(step.change, None)
                        step.change.error = f"would change {cursor.rowcount} rows, not one"
                        raise CommitError(step.change, step.change.error)
                    done.append((step, cursor.rowcount))
        except Conflict as conflict:  # rolled back: now read the row as it is
            change = conflict.change
            assert change.row is not None
            change.error = "changed by someone else since it was read"
            raise Conflict(change, await self.current(table, change.row)) from None
        if self.log is not None:
            async with self._using() as conn:
                for step, rows in done:
                    self.log.record(self._write(conn, step.statement.as_string(conn),
                                                step.params, rows, "tables",
                                                f"{step.change.kind.upper()} {rows}"))
        pending.changes = []
        return done

    async def export(self, view: TableView, path: Path,
                     progress: Callable[[int, int | None], None]) -> ExportReport:
        """Every row of the view (its filters and order) into a .csv or .jsonl file,
        streamed by COPY, whatever the table's size."""
        kind = export_format(path)
        return await write_export(
            path, lambda write, heard: self._copy_out(view, kind, write, heard), progress)

    async def _copy_out(self, view: TableView, kind: str, write: Callable[[bytes], object],
                        progress: Callable[[CopyCount], None]) -> CopyCount:
        import psycopg

        statement, params = view.copy_out(kind)
        try:
            # Its own connection: browsing goes on while it streams. COPY takes no
            # server-side parameters: they are bound here, on the client.
            async with await self.postgres.open() as conn, self.scope(conn):
                command = psycopg.AsyncClientCursor(conn).mogrify(
                    with_params(statement, conn), params)
                return await copy_out(conn, command.encode(), write,
                                      text_rows=kind != "csv", progress=progress)
        except psycopg.Error as error:
            raise CrestfallError(_message(error), title="Export") from None

    async def import_csv(self, table: TableInfo, plan: CsvPlan,
                         progress: Callable[[int, int], None]) -> int:
        """Load a mapped CSV file into the table in one transaction; the rows loaded."""
        async with await self.postgres.open() as conn:
            loaded = await load_csv(conn, self.scope, table, plan, progress)
            if self.log is not None:
                self.log.record(self._write(conn, copy_statement(table, plan).as_string(conn),
                                            (), loaded, "import", f"COPY {loaded}",
                                            f"from {plan.path}"))
            return loaded

    def _write(self, conn: Any, statement: str, params: tuple[object, ...], rows: int,
               source: str, tag: str, note: str = "") -> Write:
        """A committed write as the action log records it."""
        return Write(statement + (f" -- {note}" if note else ""), params, rows, source, tag,
                     self.run_as.label if self.run_as else "", conn.info.dbname)


def _block(ctid: str) -> int:
    """The block of a ctid's text, '(block,item)'."""
    return int(ctid.strip("()").split(",")[0])


def check_json(text: str, column: str) -> None:
    """JSON is checked before it is accepted, with where it went wrong."""
    try:
        json.loads(text)
    except ValueError as error:
        raise CrestfallError(f"{column}: not valid JSON: {error}",
                             title="Invalid value") from None


def _message(error: BaseException) -> str:
    """A driver error in one line or two: Postgres's message, then its detail."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(error).strip().splitlines()[0]
    detail = getattr(diag, "message_detail", None)
    return f"{primary} ({detail})" if detail else primary
