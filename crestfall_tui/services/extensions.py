"""Which of the stack's Postgres extensions are installed, available, or missing."""

from __future__ import annotations

from dataclasses import dataclass

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.queries import query


@dataclass(frozen=True)
class ExtensionInfo:
    """One extension the stack wants."""

    name: str
    installed_version: str | None
    available: bool


@dataclass(frozen=True)
class Extensions:
    """The stack's extensions, read from its database."""

    postgres: PostgresClient

    async def list(self) -> list[ExtensionInfo]:
        """Each extension, in the order the init script creates them."""
        from psycopg.rows import class_row  # lazy: off the first frame

        async with self.postgres.connect() as conn:
            cursor = conn.cursor(row_factory=class_row(ExtensionInfo))
            await cursor.execute(query("extensions"))
            return await cursor.fetchall()
