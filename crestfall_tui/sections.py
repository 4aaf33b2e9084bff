"""The section registry: one row per section of the studio. The app builds its F-keys, modes,
palette entries and help from it, so a new section is one row here and one package under
`screens/`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.config import StackConfig
from crestfall_tui.errors import CrestfallError
from crestfall_tui.screens import (
    CrestfallScreen,
    CronScreen,
    QueryScreen,
    StackScreen,
    TablesScreen,
    UsersScreen,
)
from crestfall_tui.services.action_log import ActionLog
from crestfall_tui.services.audit import Audit
from crestfall_tui.services.authz import Authorization
from crestfall_tui.services.cron import Cron
from crestfall_tui.services.databases import Database, list_databases, remember_database
from crestfall_tui.services.extensions import Extensions
from crestfall_tui.services.pending import PendingChanges
from crestfall_tui.services.query_history import QueryHistory
from crestfall_tui.services.query_session import QuerySession
from crestfall_tui.services.run_as import RunAs
from crestfall_tui.services.snippets import Snippets
from crestfall_tui.services.table_session import TableSession
from crestfall_tui.services.users import Users
from crestfall_tui.stack.model import StackStatus
from crestfall_tui.stack.runtime import Runtime


@dataclass(frozen=True)
class Studio:
    """What the sections' screens are built from: the stack, its runtime, the database
    client, and the state that outlives a screen (pending edits, the query session)."""

    stack: StackConfig
    runtime: Runtime
    postgres: PostgresClient
    table_pending: PendingChanges
    table_session: TableSession
    query_session: QuerySession
    actions: ActionLog
    """Every write the studio commits on this stack (Tables, imports, Query)."""
    first_status: Future[StackStatus] | None = None

    @classmethod
    def open(cls, stack: StackConfig, runtime: Runtime,
             first_status: Future[StackStatus] | None = None) -> Studio:
        postgres = runtime.postgres(read_only=stack.read_only, database=stack.database)
        actions = ActionLog(stack.name, stack.data_path)
        return cls(stack, runtime, postgres, PendingChanges(), TableSession(postgres, log=actions),
                   QuerySession(postgres, text_values=True, scrollable=True, log=actions,
                                idle_release_s=stack.release_idle_results),
                   actions, first_status)

    def own_postgres(self) -> PostgresClient:
        """The stack's own database (where its auth and authz schemas and pg_cron are),
        whichever database Tables and Query have open."""
        return self.runtime.postgres(read_only=self.stack.read_only)

    def open_query_as(self, run_as: RunAs) -> None:
        """Query and Tables run as `run_as` from now on (set in the Users section)."""
        self.query_session.run_as = run_as
        self.table_session.run_as = run_as

    def jwt_secret(self) -> str | None:
        """The stack's JWT secret, to sign tokens for its users; None where it is unknown."""
        try:
            return self.runtime.secrets.jwt_secret
        except CrestfallError:
            return None

    @property
    def database(self) -> str:
        """The database Tables and Query have open."""
        return self.postgres.database or "postgres"

    async def databases(self) -> list[Database]:
        return await list_databases(self.postgres)

    async def switch_database(self, name: str) -> None:
        """Open `name` in Tables and Query from now on (their sessions reconnect), and next
        time the studio opens this stack."""
        self.postgres.database = name
        self.table_pending.reset()
        await self.table_session.close()
        await self.query_session.close()
        remember_database(self.stack.data_path, name)


@dataclass(frozen=True)
class Section:
    """One section: its mode, its key, its title and line in the palette and help, and how
    its screen is built."""

    name: str
    key: str
    title: str
    description: str
    screen: Callable[[Studio], CrestfallScreen]
    shows_rows: bool = False
    """Its screen opens the rows another section asks for (`ShowRows`)."""


SECTIONS: tuple[Section, ...] = (
    Section("stack", "f1", "Stack", "Services and health, extensions, connections",
            lambda s: StackScreen(s.runtime, Extensions(s.postgres), s.first_status)),
    Section("tables", "f2", "Tables", "Browse and edit tables",
            lambda s: TablesScreen(s.table_session, s.table_pending), shows_rows=True),
    Section("query", "f3", "Query", "SQL editor and streaming results",
            lambda s: QueryScreen(s.query_session, QueryHistory(s.stack.data_path),
                                  Snippets(s.stack.data_path))),
    Section("users", "f4", "Users", "Auth users, sessions, lock-out, roles, audit",
            lambda s: UsersScreen(Users(s.own_postgres()), Authorization(s.own_postgres()),
                                  Audit(s.own_postgres()), s.jwt_secret(),
                                  s.open_query_as)),
    Section("cron", "f6", "Cron", "pg_cron jobs, run now, history, health, retention",
            lambda s: CronScreen(Cron(s.own_postgres()))),
)
