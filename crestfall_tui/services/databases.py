"""The stack's databases, and which one the studio has open (remembered per stack)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.queries import query
from crestfall_tui.stack.private_files import write_private

CHOSEN_FILE = "database"


@dataclass(frozen=True)
class Database:
    """One database of the stack's server."""

    name: str
    size_bytes: int


async def list_databases(postgres: PostgresClient) -> list[Database]:
    """Every database this login may connect to, by name."""
    async with postgres.connect() as conn:
        cursor = await conn.execute(query("databases"))
        return [Database(str(name), int(str(size))) for name, size in await cursor.fetchall()]


def remembered_database(data_dir: Path) -> str | None:
    """The database the studio last had open on this stack."""
    try:
        return (data_dir / CHOSEN_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def remember_database(data_dir: Path, name: str) -> None:
    """Open `name` next time too."""
    if data_dir.is_dir():
        write_private(data_dir / CHOSEN_FILE, name + "\n")
