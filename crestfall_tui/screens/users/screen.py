"""The Users & access section (F4): the stack's auth users (GoTrue's schema), all their
sessions, authorization roles and permissions, and the row audit, each in a tab that owns
its keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane

from crestfall_tui.screens.base import CrestfallScreen
from crestfall_tui.screens.users.access_pane import AccessPane
from crestfall_tui.screens.users.audit_pane import AuditPane
from crestfall_tui.screens.users.sessions_pane import SessionsPane
from crestfall_tui.screens.users.user_list import UserList
from crestfall_tui.services.audit import Audit
from crestfall_tui.services.authz import Authorization
from crestfall_tui.services.run_as import RunAs
from crestfall_tui.services.users import Users

TABS = ("users", "sessions", "access", "audit")


class UsersScreen(CrestfallScreen):
    """Users, Sessions, Access and Audit, in tabs (1 to 4)."""

    CSS_PATH = "users.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    SECTION = "Users"
    ABOUT = ("The stack's auth users (GoTrue's schema), searched by id or the start of an "
             "email or phone, the selected one in detail; every session; authorization "
             "roles and what a user may do; and the row audit. 1 to 4 switch tabs.")
    BINDINGS = [
        Binding("1", "tab('users')", "Users", show=False, id="users.tab_users"),
        Binding("2", "tab('sessions')", "Sessions", show=False, id="users.tab_sessions"),
        Binding("3", "tab('access')", "Access", show=False, id="users.tab_access"),
        Binding("4", "tab('audit')", "Audit", show=False, id="users.tab_audit"),
    ]

    def __init__(self, users: Users, authz: Authorization, audit: Audit,
                 jwt_secret: str | None, run_as: Callable[[RunAs], None]) -> None:
        super().__init__()
        self.users = users
        self.authz = authz
        self.audit = audit
        self.jwt_secret = jwt_secret
        self.run_as = run_as

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="users-tabs", initial="users"):
            with TabPane("1 Users", id="users"):
                yield UserList(self.users, self.jwt_secret, self.run_as, id="user-list")
            with TabPane("2 Sessions", id="sessions"):
                yield SessionsPane(self.users, id="sessions-pane")
            with TabPane("3 Access", id="access"):
                yield AccessPane(self.authz, self.users, id="access-pane")
            with TabPane("4 Audit", id="audit"):
                yield AuditPane(self.audit, self.users, id="audit-pane")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#users-table", DataTable).focus()

    async def on_unmount(self) -> None:
        for service in (self.users, self.authz, self.audit):
            await service.close()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """Each tab reads when first shown (and again on r); its table takes the keys."""
        pane = event.pane
        if pane.id == "sessions":
            self.query_one(SessionsPane).load()
        elif pane.id == "access":
            self.query_one(AccessPane).load()
        elif pane.id == "audit":
            self.query_one(AuditPane).load()
        tables = pane.query(DataTable)
        if tables:
            tables.first().focus()

    def commands(self) -> Iterable[SystemCommand]:
        users = self.query_one(UserList)
        yield SystemCommand("Users: new user", "An email, a password", users.action_new_user)
        yield SystemCommand("Users: lock out the selected user", "Ban, end every session",
                            users.action_lockout)
        yield SystemCommand("Users: verify a token", "Decode a JWT and check it against "
                            "the stack", users.action_verify_token)
        for number, tab in enumerate(TABS, 1):
            yield SystemCommand(f"Users: {tab} tab ({number})", f"Show the {tab} tab",
                                lambda tab=tab: self.action_tab(tab))
