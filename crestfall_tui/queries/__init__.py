"""The app's own SQL: one statement per `.sql` file, loaded by name. No Textual here."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psycopg import sql


@cache
def query(name: str) -> sql.SQL:
    """The statement in `queries/<name>.sql`, ready to execute."""
    from psycopg import sql  # lazy: off the first frame

    text = files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
    return sql.SQL(text)  # trusted: the text ships with the package
