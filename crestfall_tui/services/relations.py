"""What the Tables screen knows about relations: the tree of them, and one in detail
(columns, key, foreign keys, whether it can be edited, indexes, constraints, triggers, RLS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crestfall_tui.errors import CrestfallError
from crestfall_tui.queries import query

KINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
         "f": "foreign table"}
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
# pg_relation_is_updatable's bits (src/include/nodes/nodes.h: 1 << CMD_UPDATE etc.)
_UPDATE, _INSERT, _DELETE = 4, 8, 16


@dataclass(frozen=True)
class Relation:
    """One entry of the schema tree."""

    schema: str
    name: str
    kind: str
    estimated_rows: int | None
    """pg_class.reltuples; None when the relation was never analysed (reltuples = -1)."""
    size_bytes: int
    parent: tuple[str, str] | None = None
    """For a partition: its partitioned table (schema, name)."""

    @property
    def system(self) -> bool:
        return self.schema in SYSTEM_SCHEMAS or self.schema.startswith("pg_")

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class ColumnInfo:
    """A column as the grid and its editors need it."""

    name: str
    type_sql: str
    """The type as Postgres spells it in SQL (format_type): `integer`, `"My Enum"[]`."""
    category: str
    """pg_type.typcategory of the value (or of an array's elements): N number, B boolean,
    D date/time, S string, U user-defined (json, uuid...), E enum."""
    is_array: bool
    nullable: bool
    default: str | None
    enum_labels: tuple[str, ...] | None
    identity: str
    """'a' GENERATED ALWAYS AS IDENTITY, 'd' BY DEFAULT, '' not an identity."""
    generated: bool
    base_type: str
    """pg_type.typname of the value (or of an array's elements): int4, jsonb, date..."""

    @property
    def writable(self) -> bool:
        """Whether an UPDATE may set it (generated and always-identity columns are not)."""
        return not self.generated and self.identity != "a"

    @property
    def has_default(self) -> bool:
        return self.default is not None or self.identity != "" or self.generated


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key: these columns of one relation reference those of another."""

    name: str
    schema: str
    table: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Detail:
    """An index, constraint, trigger or policy: its name and definition."""

    kind: str
    name: str
    definition: str


@dataclass(frozen=True)
class TableInfo:
    """One relation in detail."""

    schema: str
    name: str
    oid: int
    kind: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...]
    can_update: bool
    can_insert: bool
    can_delete: bool
    rls_enabled: bool
    rls_forced: bool
    references: tuple[ForeignKey, ...]
    """Foreign keys from this relation to others."""
    referenced_by: tuple[ForeignKey, ...]
    """Foreign keys from other relations (or this one) to this one."""
    details: tuple[Detail, ...]

    @property
    def insert_triggers(self) -> list[str]:
        """The row triggers that run before an insert (they may fill columns themselves)."""
        return [detail.name for detail in self.details if detail.kind == "trigger"
                and " BEFORE INSERT" in detail.definition.upper()
                and "FOR EACH ROW" in detail.definition.upper()]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def has_heap(self) -> bool:
        """Rows have a ctid and xmin (tables and materialized views; not views)."""
        return self.kind in ("table", "materialized view")

    @property
    def addressing(self) -> str:
        """How a row is found again to change it: 'key', 'ctid' or 'values'."""
        if self.primary_key:
            return "key"
        return "ctid" if self.has_heap else "values"

    @property
    def editable(self) -> bool:
        return self.can_update or self.can_insert or self.can_delete

    @property
    def read_only_reason(self) -> str | None:
        """Why nothing here can be edited, or None when something can."""
        if self.editable:
            return None
        if self.kind == "materialized view":
            return "a materialized view is read-only (REFRESH it to change its rows)"
        if self.kind == "view":
            return "Postgres says this view is not updatable (joins, aggregates or DISTINCT)"
        return f"Postgres does not allow changes to this {self.kind}"

    @property
    def warning(self) -> str | None:
        """What the user should know before editing rows here."""
        if self.addressing == "ctid":
            return ("no primary key: rows are found by their physical address (ctid) and "
                    "version (xmin), one row per statement")
        if self.addressing == "values" and self.editable:
            return "rows are found by all their values; a change that matches several is refused"
        return None

    def column(self, name: str) -> ColumnInfo:
        for column in self.columns:
            if column.name == name:
                return column
        raise CrestfallError(f"{self.qualified} has no column {name!r}", title="Tables")

    def column_index(self, name: str) -> int:
        return [column.name for column in self.columns].index(name)


async def list_relations(conn: Any) -> list[Relation]:
    """Every table, view, materialized view, partitioned and foreign table."""
    rows = await (await conn.execute(query("relations"))).fetchall()
    return [Relation(schema, name, KINDS[kind], None if int(tuples) < 0 else int(tuples),
                     int(size), (parent_schema, parent) if parent else None)
            for schema, name, kind, tuples, size, parent_schema, parent in rows]


async def load_table(conn: Any, schema: str, name: str) -> TableInfo:
    """One relation in detail; a CrestfallError when it does not exist (any more)."""
    found = await (await conn.execute(query("table_identity"),
                                      {"schema": schema, "name": name})).fetchone()
    if found is None:
        raise CrestfallError(f"{schema}.{name} does not exist (any more): press r to reload "
                             "the tree", title="Tables")
    oid, kind, primary_key, updatable, rls, rls_forced = found
    oid = int(oid)
    updatable = int(updatable)
    params = {"oid": oid}
    columns = [ColumnInfo(col_name, type_sql, category, bool(is_array), bool(nullable),
                          default, tuple(labels) if labels else None, identity or "",
                          bool(generated), base_type)
               for (col_name, type_sql, category, is_array, nullable, default, labels, identity,
                    generated, base_type)
               in await (await conn.execute(query("table_columns"), params)).fetchall()]
    keys = [ForeignKey(fk_name, fk_schema, fk_table, tuple(cols), ref_schema, ref_table,
                       tuple(ref_cols))
            for fk_name, fk_schema, fk_table, cols, ref_schema, ref_table, ref_cols
            in await (await conn.execute(query("table_foreign_keys"), params)).fetchall()]
    details = [Detail(*row) for row in
               await (await conn.execute(query("table_details"), params)).fetchall()]
    return TableInfo(
        schema, name, oid, KINDS[kind], tuple(columns), tuple(primary_key),
        can_update=bool(updatable & _UPDATE), can_insert=bool(updatable & _INSERT),
        can_delete=bool(updatable & _DELETE), rls_enabled=bool(rls),
        rls_forced=bool(rls_forced),
        references=tuple(k for k in keys if (k.schema, k.table) == (schema, name)),
        referenced_by=tuple(k for k in keys if (k.ref_schema, k.ref_table) == (schema, name)),
        details=tuple(details))

