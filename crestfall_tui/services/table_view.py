"""A relation as the grid shows it (sort, filters) and the SQL that reads it a window at a
time: keyset pagination on the sort keys plus the primary key (or ctid where there is none),
so the last page of ten million rows costs what the first does; OFFSET only for views, which
have neither. Every identifier goes through psycopg.sql and every value is a parameter."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.relations import TableInfo

if TYPE_CHECKING:
    from psycopg import sql

OPERATORS = ("=", "<>", "<", "<=", ">", ">=", "like", "ilike", "in", "is null", "is not null")
UNARY = ("is null", "is not null")


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool = False


@dataclass(frozen=True)
class Filter:
    """`column operator value`; `in` takes a comma-separated list; is (not) null no value."""

    column: str
    operator: str
    value: str | None = None

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise CrestfallError(f"unknown operator {self.operator!r}; use one of "
                                 f"{', '.join(OPERATORS)}", title="Filter")
        if self.operator not in UNARY and self.value is None:
            raise CrestfallError(f"{self.operator} needs a value", title="Filter")

    @property
    def label(self) -> str:
        if self.operator in UNARY:
            return f"{self.column} {self.operator}"
        return f"{self.column} {self.operator} {self.value}"

    def items(self) -> list[str]:
        """The values of an `in` list."""
        return [item.strip() for item in (self.value or "").split(",") if item.strip()]


class Row(NamedTuple):
    """One row as read: every value as Postgres's own text (None for NULL), where it is,
    and which version of it was read. A named tuple: a page makes hundreds of them."""

    values: tuple[str | None, ...]
    ctid: str | None = None
    xmin: str | None = None
    position: int | None = None
    """Its place in the result, for views (read with OFFSET)."""
    key: tuple[int, ...] = ()
    """Where its primary key is among the values (empty: none)."""

    @property
    def identity(self) -> tuple[Any, ...]:
        """What finds this row again in the pending changes: its key values, else its
        ctid, else (a view) all its values."""
        if self.key:
            return ("key", *[self.values[index] for index in self.key])
        if self.ctid is not None:
            return ("ctid", self.ctid)
        return ("values", *self.values)


@dataclass(frozen=True)
class OrderKey:
    """One ORDER BY term and where its value comes from in a row."""

    expression: sql.Composable
    descending: bool
    source: tuple[str, int]
    """('value', column index), ('isnull', column index) or ('ctid', 0)."""

    def of(self, row: Row) -> Any:
        kind, index = self.source
        if kind == "ctid":
            return row.ctid
        if kind == "isnull":
            return row.values[index] is None
        return row.values[index]


@dataclass(frozen=True)
class TableView:
    """A relation with the user's sort and filters."""

    table: TableInfo
    sort: tuple[SortKey, ...] = ()
    filters: tuple[Filter, ...] = field(default=())
    _pages: dict[tuple[Any, ...], tuple[sql.Composable, list[int]]] = field(
        default_factory=dict, init=False, compare=False, repr=False)
    """Page statements by shape (see `page`)."""

    def sort_toggled(self, column: str) -> TableView:
        """Sorted by `column` too: ascending, then descending, then not at all."""
        sort = list(self.sort)
        found = next((i for i, key in enumerate(sort) if key.column == column), None)
        if found is None:
            sort.append(SortKey(column))
        elif not sort[found].descending:
            sort[found] = SortKey(column, descending=True)
        else:
            del sort[found]
        return replace(self, sort=tuple(sort))

    def filtered(self, item: Filter) -> TableView:
        """With one more filter (they add up)."""
        return replace(self, filters=self.filters + (item,))

    def unfiltered(self) -> TableView:
        return replace(self, filters=())

    @property
    def keyset(self) -> bool:
        """Pages by keys (tables, materialized views); views page by OFFSET."""
        return bool(self.table.primary_key) or self.table.has_heap

    def relation(self) -> sql.Composable:
        from psycopg import sql

        return sql.Identifier(self.table.schema, self.table.name)

    def qualified(self, column: str) -> sql.Composable:
        """A column named with its relation: in ORDER BY a bare name would mean an output
        column, and `ctid::text` is output as "ctid"."""
        from psycopg import sql

        return sql.Identifier(self.table.schema, self.table.name, column)

    def select_list(self) -> sql.Composable:
        from psycopg import sql

        columns: list[sql.Composable] = [sql.Identifier(c.name) for c in self.table.columns]
        if self.table.has_heap:
            columns += [sql.SQL("ctid::text"), sql.SQL("xmin::text")]
        return sql.SQL(", ").join(columns)

    def where(self) -> tuple[sql.Composable, list[Any]]:
        """The filters as one condition (TRUE when there are none) and its parameters."""
        from psycopg import sql

        terms: list[sql.Composable] = []
        params: list[Any] = []
        for item in self.filters:
            column = sql.Identifier(self.table.column(item.column).name)
            if item.operator in UNARY:
                terms.append(sql.SQL("{} " + item.operator.upper()).format(column))
            elif item.operator == "in":
                values = item.items()
                terms.append(sql.SQL("{} IN ({})").format(
                    column, sql.SQL(", ").join(sql.Placeholder() * len(values))))
                params += values
            elif item.operator in ("like", "ilike"):  # on the text of any type
                terms.append(sql.SQL("{}::text " + item.operator.upper() + " {}").format(
                    column, sql.Placeholder()))
                params.append(item.value)
            else:
                terms.append(sql.SQL("{} " + item.operator + " {}").format(
                    column, sql.Placeholder()))
                params.append(item.value)
        if not terms:
            return sql.SQL("TRUE"), []
        return sql.SQL(" AND ").join(terms), params

    def order_keys(self) -> list[OrderKey]:
        """The sort the user chose, then the primary key (or ctid) so every row has one
        place. A nullable column sorts by `IS NULL` first, as NULLS LAST (FIRST when
        descending) do, so that keyset conditions never compare with NULL."""
        from psycopg import sql

        keys: list[OrderKey] = []
        for sort in self.sort:
            index = self.table.column_index(sort.column)
            column = self.qualified(sort.column)
            if self.table.columns[index].nullable:
                keys.append(OrderKey(sql.SQL("({} IS NULL)").format(column), sort.descending,
                                     ("isnull", index)))
            keys.append(OrderKey(column, sort.descending, ("value", index)))
        sorted_by = {sort.column for sort in self.sort}
        for name in self.table.primary_key:
            if name not in sorted_by:
                keys.append(OrderKey(self.qualified(name), False,
                                     ("value", self.table.column_index(name))))
        if not self.table.primary_key and self.table.has_heap:
            keys.append(OrderKey(self.qualified("ctid"), False, ("ctid", 0)))
        return keys

    def order_by(self, keys: list[OrderKey], reverse: bool) -> sql.Composable:
        from psycopg import sql

        if not keys:
            return sql.SQL("")
        terms = [sql.SQL("{} DESC" if key.descending != reverse else "{} ASC").format(
            key.expression) for key in keys]
        return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(terms)

    @cached_property
    def keys(self) -> list[OrderKey]:
        return self.order_keys()

    @cached_property
    def _filtered(self) -> tuple[sql.Composable, list[Any]]:
        return self.where()

    @property
    def physical(self) -> bool:
        """Rows come in ctid order (no key, no sort): pages can be read a stretch of
        blocks at a time, so a page never scans the rest of the table."""
        return not self.sort and not self.table.primary_key and self.table.has_heap

    def page(self, where: str, anchor: Row | None, limit: int, offset: int = 0,
             blocks: tuple[int, int] | None = None) -> tuple[sql.Composable, list[Any], bool]:
        """The statement for a page, its parameters, and whether its rows come in reverse.

        `where` is first, last, after (the anchor), before (the anchor) or from (the anchor
        itself and what follows it). `blocks` keeps a physical page within blocks
        [first, last) of the relation. Statements are kept by their shape (which anchor
        values are NULL), so paging on reuses one statement object and only the parameters
        change.
        """
        reverse = self.keyset and where in ("last", "before")  # OFFSET pages read forwards
        values = None
        if anchor is not None and self.keyset and where in ("after", "before", "from"):
            values = [key.of(anchor) for key in self.keys]
        shape = (where, limit, 0 if self.keyset else max(0, offset),
                 None if values is None else tuple(value is None for value in values),
                 blocks is not None)
        built = self._pages.get(shape)
        if built is None:
            built = self._build_page(where, shape[3], limit, offset, reverse, shape[4])
            self._pages[shape] = built
        statement, indexes = built
        params = list(self._filtered[1])
        if blocks is not None:
            params += [f"({blocks[0]},0)", f"({blocks[1]},0)"]
        if values is not None:
            params += [values[index] for index in indexes]
        return statement, params, reverse

    def _build_page(self, where: str, nulls: tuple[bool, ...] | None, limit: int,
                    offset: int, reverse: bool,
                    blocks: bool) -> tuple[sql.Composable, list[int]]:
        from psycopg import sql

        condition = self._filtered[0]
        if blocks:
            condition = sql.SQL("({}) AND {} >= {} AND {} < {}").format(
                condition, self.qualified("ctid"), sql.Placeholder(), self.qualified("ctid"),
                sql.Placeholder())
        indexes: list[int] = []
        if nulls is not None:
            after, indexes = _keyset_condition(self.keys, nulls, forward=where != "before",
                                               inclusive=where == "from")
            condition = sql.SQL("({}) AND ({})").format(condition, after)
        statement = sql.SQL("SELECT {} FROM {} WHERE {}{} LIMIT {}").format(
            self.select_list(), self.relation(), condition, self.order_by(self.keys, reverse),
            sql.Literal(limit))
        if not self.keyset:
            statement = statement + sql.SQL(" OFFSET {}").format(sql.Literal(max(0, offset)))
        return statement, indexes

    def count(self) -> tuple[sql.Composable, list[Any]]:
        """An exact count of the rows the filters let through."""
        from psycopg import sql

        condition, params = self.where()
        return sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
            self.relation(), condition), params

    def copy_out(self, kind: str) -> tuple[sql.Composed, list[Any]]:
        """COPY of every row of the view, in its order, as CSV with a header or as JSON
        Lines (one row_to_json per line)."""
        from psycopg import sql

        condition, params = self.where()
        select = sql.SQL("SELECT {} FROM {} WHERE {}{}").format(
            sql.SQL(", ").join(sql.Identifier(c.name) for c in self.table.columns),
            self.relation(), condition, self.order_by(self.order_keys(), False))
        if kind == "csv":
            return sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(select), \
                params
        return sql.SQL("COPY (SELECT row_to_json(q)::text FROM ({}) q) TO STDOUT").format(
            select), params

    @cached_property
    def _key_indexes(self) -> tuple[int, ...]:
        return tuple(self.table.column_index(name) for name in self.table.primary_key)

    def make_row(self, record: tuple[Any, ...], position: int | None = None) -> Row:
        """A fetched record (the columns, then ctid and xmin for heap relations) as a Row."""
        width = len(self.table.columns)
        if not self.table.has_heap:
            return Row(record[:width], None, None, position)
        return Row(record[:width], record[width], record[width + 1], position,
                   self._key_indexes)


def _keyset_condition(keys: list[OrderKey], nulls: tuple[bool, ...], *, forward: bool,
                      inclusive: bool) -> tuple[sql.Composable, list[int]]:
    """Rows after (or before) the anchor in the order of `keys`, and which of the anchor's
    key values are its parameters, in order (`nulls` says which of them are NULL).

    When every key runs the same way and the anchor has no NULL, one row comparison
    `(a, b) > (x, y)` says it, and Postgres walks an index for it. Otherwise it is spelt out:
    `a > x OR (a = x AND b > y) ...`, with each key's own direction; a NULL anchor value
    has no strict term (its `IS NULL` key orders it) and equality is IS NOT DISTINCT FROM.
    """
    from psycopg import sql

    def operator(key: OrderKey) -> str:
        greater = forward != key.descending
        return (">" if greater else "<") + ("=" if inclusive else "")

    if len({key.descending for key in keys}) == 1 and not any(nulls):
        return sql.SQL("({}) {} ({})").format(
            sql.SQL(", ").join(key.expression for key in keys), sql.SQL(operator(keys[0])),
            sql.SQL(", ").join(sql.Placeholder() * len(keys))), list(range(len(keys)))
    terms: list[sql.Composable] = []
    indexes: list[int] = []
    for index, key in enumerate(keys):
        last = index == len(keys) - 1
        strict = ">" if forward != key.descending else "<"
        if last and inclusive:
            strict += "="
        if nulls[index] and not (last and inclusive):
            continue
        equal = [sql.SQL("{} IS NOT DISTINCT FROM {}").format(k.expression, sql.Placeholder())
                 for k in keys[:index]]
        if nulls[index]:  # inclusive end on a NULL: the anchor's equals
            compare: sql.Composable = sql.SQL("{} IS NULL").format(key.expression)
            term_indexes = list(range(index))
        else:
            compare = sql.SQL("{} {} {}").format(key.expression, sql.SQL(strict),
                                                 sql.Placeholder())
            term_indexes = list(range(index + 1))
        terms.append(sql.SQL("({})").format(sql.SQL(" AND ").join([*equal, compare])))
        indexes += term_indexes
    if not terms:
        return sql.SQL("FALSE"), []
    return sql.SQL(" OR ").join(terms), indexes
