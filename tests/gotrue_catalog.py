"""A description of an `auth` schema from the catalog, to compare two databases: tables and
their owners and RLS, columns (type, nullability, default, generated), constraints, indexes,
enums and their values, functions (arguments, owner, body).

`tests/data/gotrue_auth_catalog.json` holds it for GoTrue's own migrations at the pinned
release, applied alone to a bare PostgreSQL 15 as GoTrue applies them (schema `auth` owned by
supabase_auth_admin, pop's `schema_migrations` table, each file as supabase_auth_admin with
search_path auth). Made once with `python -m tests.gotrue_catalog URL > FILE` on such a
database.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import psycopg

QUERIES = {
    "tables": """
        select c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity
          from pg_class c where c.relnamespace = 'auth'::regnamespace and c.relkind in ('r', 'p')
         order by 1""",
    "columns": """
        select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attgenerated
          from pg_attribute a join pg_class c on c.oid = a.attrelid
          left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
         where c.relnamespace = 'auth'::regnamespace and c.relkind in ('r', 'p')
           and a.attnum > 0 and not a.attisdropped
         order by 1, 2""",
    "constraints": """
        select c.relname, k.conname, pg_get_constraintdef(k.oid)
          from pg_constraint k join pg_class c on c.oid = k.conrelid
         where c.relnamespace = 'auth'::regnamespace order by 1, 2""",
    "indexes": """
        select tablename, indexname, indexdef from pg_indexes
         where schemaname = 'auth' order by 1, 2""",
    "enums": """
        select t.typname, string_agg(e.enumlabel, ',' order by e.enumsortorder)
          from pg_type t join pg_enum e on e.enumtypid = t.oid
         where t.typnamespace = 'auth'::regnamespace group by 1 order by 1""",
    "functions": """
        select p.proname, pg_get_function_identity_arguments(p.oid), pg_get_userbyid(p.proowner),
               md5(p.prosrc)
          from pg_proc p where p.pronamespace = 'auth'::regnamespace order by 1, 2""",
}
IGNORED = {("tables", "schema_migrations"), ("columns", "schema_migrations"),
           ("constraints", "schema_migrations"), ("indexes", "schema_migrations")}
"""pop makes its own table as version varchar(14) with one more index; the stack's is
varchar(255), as the supabase/postgres image's is: both hold every version."""
STUDIO = "crestfall_"
"""The studio's own indexes (22_auth_indexes.sql), which GoTrue neither makes nor reads."""


def auth_catalog(conn: psycopg.Connection[Any]) -> dict[str, list[list[Any]]]:
    found = {}
    for part, query in QUERIES.items():
        rows = [list(row) for row in conn.execute(query).fetchall()]
        found[part] = [row for row in rows if (part, row[0]) not in IGNORED
                       and not (part == "indexes" and str(row[1]).startswith(STUDIO))]
    return found


if __name__ == "__main__":
    with psycopg.connect(sys.argv[1]) as connection:
        json.dump(auth_catalog(connection), sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
