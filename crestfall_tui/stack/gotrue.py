"""GoTrue's own migrations, run as GoTrue runs them, so that the `auth` schema is exactly
the one a GoTrue of the pinned release builds and a GoTrue pointed at the database later
finds nothing to do (or only its newer migrations).

The migration files are vendored unchanged from supabase/auth (MIT; sql/gotrue/LICENSE) at
GOTRUE_COMMIT. GoTrue applies them with gobuffalo/pop, whose rules are followed here: files
in the string order of their names; a file's version is the digits before its first `_`;
each version not yet in `auth.schema_migrations` runs in a transaction of its own, as
`supabase_auth_admin` with `search_path = auth`, its template's one expression (the
namespace) rendered as `auth`, and its version recorded in the same transaction.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from crestfall_tui.resources import DATA_DIR

GOTRUE_COMMIT = "bc32168e13fd"
"""supabase/auth at "chore: consistent oauth param delete (#2593)": 70 migrations, the newest
20260625000000."""
NAMESPACE = re.compile(r"\{\{\s*index\s+\.Options\s+\"Namespace\"\s*\}\}")


def migration_files() -> list[tuple[str, Path]]:
    """(version, file) of every vendored migration, in the order pop runs them."""
    files = sorted((DATA_DIR / "sql" / "gotrue").glob("*.up.sql"), key=lambda p: p.name)
    return [(path.name.split("_", 1)[0], path) for path in files]


def render(text: str) -> str:
    """A migration's SQL with its namespace filled in (the only template expression)."""
    return NAMESPACE.sub("auth", text)


def apply_gotrue_migrations(conn: Any) -> list[str]:
    """Run the migrations not yet recorded; the versions run."""
    from psycopg import sql

    recorded = {str(row[0]) for row in
                conn.execute("select version from auth.schema_migrations").fetchall()}
    applied = []
    for version, path in migration_files():
        if version in recorded:
            continue
        with conn.transaction():
            conn.execute("set local role supabase_auth_admin")
            conn.execute("set local search_path = auth")
            conn.execute(render(path.read_text(encoding="utf-8")).encode())
            conn.execute(sql.SQL("insert into auth.schema_migrations (version) values ({})")
                         .format(sql.Literal(version)))
        applied.append(version)
    return applied
