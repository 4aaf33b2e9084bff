"""Completion for the SQL editor: what may come at the cursor, from a catalog cache."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from crestfall_tui.queries import query

KEYWORDS = (  # noqa: SIM905 - keywords read as text, not as 70 quoted items
    "select from where join left right inner full outer cross on using group by order having "
    "limit offset insert into values update set delete returning create table view index "
    "alter drop truncate with as distinct and or not null is in exists between like ilike "
    "case when then else end union all except intersect begin commit rollback explain "
    "analyze grant revoke schema function trigger policy primary key references default"
).split()
COMMON_FUNCTIONS = ("count", "sum", "avg", "min", "max", "now", "coalesce", "nullif",
                    "lower", "upper", "length", "jsonb_build_object", "to_jsonb",
                    "gen_random_uuid", "date_trunc", "string_agg", "array_agg")
RELATION_KEYWORDS = {"from", "join", "update", "into", "table"}
_WORD = re.compile(r"[\w.$\"]*$")
_SOURCES = re.compile(r"\b(?:from|join|update|into)\s+([\w.\"]+)(?:\s+(?:as\s+)?(\w+))?",
                      re.IGNORECASE)


@dataclass
class Catalog:
    """Relations by name (bare and schema-qualified) with their columns; functions."""

    schemas: set[str] = field(default_factory=set)
    columns: dict[str, list[str]] = field(default_factory=dict)
    functions: list[str] = field(default_factory=list)

    @classmethod
    def from_rows(cls, rows: list[tuple[Any, ...]], functions: list[str]) -> Catalog:
        catalog = cls(functions=functions)
        for schema, relation, column in rows:
            catalog.schemas.add(schema)
            for name in (relation, f"{schema}.{relation}"):
                names = catalog.columns.setdefault(name, [])
                if column is not None and column not in names:
                    names.append(column)
        return catalog


async def load_catalog(conn: Any) -> Catalog:
    """Read the catalog once (the screen reloads it after DDL)."""
    relations = await (await conn.execute(query("catalog_columns"))).fetchall()
    functions = await (await conn.execute(query("catalog_functions"))).fetchall()
    return Catalog.from_rows(relations, [row[0] for row in functions])


def word_at(text_before: str) -> str:
    """The word being typed: identifier characters and dots just before the cursor."""
    match = _WORD.search(text_before)
    return match.group() if match else ""


def complete(statement_before: str, statement: str, catalog: Catalog) -> list[str]:
    """Candidates for the word at the end of `statement_before` (the statement's text up to
    the cursor); `statement` is the whole statement, for its FROM/JOIN aliases."""
    word = word_at(statement_before)
    if "." in word:
        prefix, _, partial = word.rpartition(".")
        table = _aliases(statement).get(prefix.lower(), prefix)
        if table in catalog.columns:
            return _matching(catalog.columns[table], partial)
        return _matching([name.split(".", 1)[1] for name in catalog.columns
                          if name.startswith(prefix + ".")], partial)
    before = statement_before[: len(statement_before) - len(word)].rstrip().split()
    previous = before[-1].lower() if before else ""
    if previous in RELATION_KEYWORDS:
        return _matching(sorted(catalog.columns) + sorted(catalog.schemas), word)
    in_use = {table for table in _aliases(statement).values() if table in catalog.columns}
    columns = sorted({c for table in in_use for c in catalog.columns[table]})
    return _matching(columns + KEYWORDS + list(COMMON_FUNCTIONS) + catalog.functions, word)


def _aliases(statement: str) -> dict[str, str]:
    """alias (or table name) -> table, from the statement's FROM/JOIN/UPDATE/INTO."""
    found: dict[str, str] = {}
    for table, alias in _SOURCES.findall(statement):
        table = table.replace('"', "")
        found[table.lower()] = table
        found[table.rsplit(".", 1)[-1].lower()] = table
        if alias and alias.lower() not in RELATION_KEYWORDS | {"where", "on", "using",
                                                               "set", "values", "join"}:
            found[alias.lower()] = table
    return found


def _matching(candidates: list[str], partial: str) -> list[str]:
    needle = partial.lower().replace('"', "")
    seen: dict[str, None] = {}
    for candidate in candidates:
        if candidate.lower().startswith(needle) and candidate.lower() != needle:
            seen.setdefault(candidate, None)
    return list(seen)
