"""The Users section (F4): the stack's auth users, their detail and sessions, and what an
operator does to them (create, ban, lock out, delete), straight in GoTrue's schema."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Static

from crestfall_tui.modals import PickerModal, PromptModal
from crestfall_tui.screens.base import CrestfallScreen
from crestfall_tui.services.users import (
    FILTERS,
    PAGE,
    AuthUser,
    UserDetail,
    Users,
    parse_duration,
)

WRITES = ("new_user", "password", "confirm_email", "ban", "unban", "lockout", "revoke",
          "delete", "soft_delete")


class UsersScreen(CrestfallScreen):
    """Auth users in order of creation, searched by index, the selected one in detail."""

    CSS_PATH = "users.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    SECTION = "Users"
    ABOUT = ("The stack's auth users (GoTrue's schema), searched by id or the start of an "
             "email or phone; the selected user's sessions, identities and references on "
             "the right.")
    BINDINGS = [
        Binding("slash", "search", "Search", tooltip="By id, or the start of an email or "
                "phone", id="users.search"),
        Binding("f", "filter", "Filter", tooltip="Confirmed, banned, deleted, SSO, a provider",
                id="users.filter"),
        Binding("n", "new_user", "New", tooltip="A user with an email (and a password)",
                id="users.new"),
        Binding("p", "password", "Password", show=False, tooltip="Set a new password",
                id="users.password"),
        Binding("c", "confirm_email", "Confirm", show=False,
                tooltip="Mark the email confirmed", id="users.confirm"),
        Binding("b", "ban", "Ban", tooltip="Refuse sign-ins for a while (sessions stay)",
                id="users.ban"),
        Binding("u", "unban", "Unban", show=False, id="users.unban"),
        Binding("L", "lockout", "Lock out", tooltip="Ban, and end every session and refresh "
                "token, in one transaction", id="users.lockout"),
        Binding("R", "revoke", "Revoke", show=False, tooltip="End every session of the user",
                id="users.revoke"),
        Binding("D", "delete", "Delete", show=False, tooltip="Delete the user (shows what "
                "points at them first)", id="users.delete"),
        Binding("S", "soft_delete", "Soft delete", show=False,
                tooltip="As GoTrue does: the row stays, nothing identifies them",
                id="users.soft_delete"),
        Binding("t", "token", "Token", show=False, tooltip="Copy a one-hour access token for "
                "the user", id="users.token"),
    ]

    def __init__(self, users: Users, jwt_secret: str | None) -> None:
        super().__init__()
        self.users = users
        self.jwt_secret = jwt_secret
        self.shown: list[AuthUser] = []
        self.filters: tuple[str, ...] = ()
        self.search = ""
        self._more = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="users-body"):
            with Vertical(id="users-left"):
                yield Input(placeholder="search: an id, or the start of an email or phone",
                            id="users-search")
                yield Static("", id="users-filters")
                yield DataTable(id="users-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="users-detail"):
                yield Static("", id="users-detail-text")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("user", "created", "last sign-in", "state"):
            table.add_column(column, key=column)
        self.query_one("#users-detail").border_title = "User"
        self.load()
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A read-only stack's login cannot write: its write keys are not offered.
        return not (action in WRITES and self.users.postgres.read_only)

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Users: new user", "An email, a password", self.action_new_user)
        yield SystemCommand("Users: lock out the selected user", "Ban, end every session",
                            self.action_lockout)

    @property
    def selected(self) -> AuthUser | None:
        table = self.query_one(DataTable)
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    # --- reading --------------------------------------------------------------------------

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self, more: bool = False) -> None:
        """The first page (or the next one) of the users the search and filters allow."""
        after = (self.shown[-1].created_at, self.shown[-1].id) if more and self.shown else None
        found = await self.users.page(self.search, filters=self.filters, after=after)
        table = self.query_one(DataTable)
        if not more:
            self.shown = []
            table.clear()
        self._more = len(found) == PAGE
        for user in found:
            self.shown.append(user)
            table.add_row(*_cells(user), key=user.id)
        said = ", ".join(self.filters) or "none"
        self.query_one("#users-filters", Static).update(
            f"{len(self.shown):,} shown{'+' if self._more else ''} · filters: {said}")
        if not more:
            self.show_detail()

    @on(DataTable.RowHighlighted)
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._more and event.cursor_row >= len(self.shown) - 5:
            self._more = False
            self.load(more=True)
        self.show_detail()

    @work(group="detail", exclusive=True, exit_on_error=False)
    async def show_detail(self) -> None:
        user = self.selected
        text = self.query_one("#users-detail-text", Static)
        if user is None:
            text.update("No user selected.")
            return
        text.update(_detail_view(await self.users.detail(user.id)))

    @on(Input.Submitted, "#users-search")
    def searched(self, event: Input.Submitted) -> None:
        self.search = event.value.strip()
        self.load()
        self.query_one(DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#users-search", Input).focus()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_filter(self) -> None:
        choices = [(("✓ " if name in self.filters else "  ") + name, name) for name in FILTERS]

        def matching(search: str) -> list[tuple[str, str]]:
            return [c for c in choices if search.lower() in c[1]]

        chosen = await self.app.push_screen_wait(PickerModal("Filter (toggle)", matching))
        if chosen:
            self.filters = tuple(f for f in self.filters if f != chosen) if chosen in \
                self.filters else (*self.filters, chosen)
            self.load()

    # --- writing --------------------------------------------------------------------------

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_new_user(self) -> None:
        email = await self.app.push_screen_wait(PromptModal("New user's email:"))
        if not email:
            return
        password = await self.app.push_screen_wait(PromptModal(
            "Password (empty: none, the user signs in by a link or OTP):", empty_allowed=True,
            password=True))
        if password is None:
            return
        confirmed = await self.confirm(f"Mark {email} as confirmed?", "Confirmed")
        user = await self.users.create(email, password or None, confirmed=confirmed)
        self.notify(f"created {user.email}", title="Users")
        self.search = user.email or ""
        self.query_one("#users-search", Input).value = self.search
        self.load()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_ban(self) -> None:
        user = self.selected
        if user is None:
            return
        answer = await self.app.push_screen_wait(PromptModal(
            f"Ban {_name(user)} for (30m, 24h, 7d, ...); their sessions stay (L locks out):",
            "24h"))
        if answer:
            await self.users.ban(user.id, parse_duration(answer))
            self._changed(f"banned {_name(user)} for {answer}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_password(self) -> None:
        user = self.selected
        if user is None:
            return
        password = await self.app.push_screen_wait(PromptModal(
            f"New password for {_name(user)}:", password=True))
        if password:
            await self.users.set_password(user.id, password)
            self._changed(f"set a new password for {_name(user)}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_confirm_email(self) -> None:
        if (user := self.selected) is not None:
            await self.users.confirm(user.id)
            self._changed(f"confirmed {_name(user)}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_unban(self) -> None:
        if (user := self.selected) is not None:
            await self.users.unban(user.id)
            self._changed(f"unbanned {_name(user)}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_lockout(self) -> None:
        user = self.selected
        if user is None or not await self.confirm(
                f"Lock {_name(user)} out now: ban them and end every session and refresh "
                "token, in one transaction?", "Lock out"):
            return
        done = await self.users.lockout(user.id)
        self._changed(f"locked out {_name(user)}: {done.sessions} session(s) and "
                      f"{done.refresh_tokens} refresh token(s) ended; access tokens issued "
                      f"before stay valid until {done.complete_at:%H:%M:%S}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_revoke(self) -> None:
        user = self.selected
        if user is not None and await self.confirm(
                f"End every session of {_name(user)}? (They are not banned.)", "End"):
            ended = await self.users.revoke(user.id)
            self._changed(f"ended {ended} session(s) of {_name(user)}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_delete(self) -> None:
        """Delete after showing what points at the user; typed confirmation."""
        user = self.selected
        if user is None:
            return
        references = [r for r in await self.users.references(user.id) if r.rows]
        blocking = [r for r in references if r.blocks]
        lines = [f"{r.table} ({r.columns}): {r.rows} row(s), {r.on_delete}"
                 + (": BLOCKS" if r.blocks else "") for r in references]
        if blocking:
            self.show_error("Delete", f"{_name(user)} cannot be deleted: "
                            + "; ".join(lines))
            return
        answer = await self.app.push_screen_wait(PromptModal(
            f"Delete {_name(user)} for good? With them go: " + ("; ".join(lines) or "nothing")
            + f". Type {user.email or user.id} to confirm (escape cancels):", warning=True))
        if answer is not None and answer.strip().lower() == (user.email or user.id).lower():
            await self.users.delete(user.id)
            self._changed(f"deleted {_name(user)}")
        elif answer is not None:
            self.notify("nothing deleted: the text typed was not the user's", severity="warning")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_soft_delete(self) -> None:
        user = self.selected
        if user is not None and await self.confirm(
                f"Soft delete {_name(user)} as GoTrue does: the row stays, but nothing "
                "identifies them (email and phone obfuscated, no password, identities and "
                "sessions gone)?", "Soft delete"):
            await self.users.delete(user.id, soft=True)
            self._changed(f"soft deleted {_name(user)}")

    def action_token(self) -> None:
        user = self.selected
        if user is None:
            return
        if self.jwt_secret is None:
            self.show_error("Token", "this stack's JWT secret is not known here")
            return
        from datetime import timedelta

        self.app.copy_to_clipboard(self.users.token(user, self.jwt_secret, timedelta(hours=1)))
        self.notify(f"copied an access token for {_name(user)}, valid for an hour",
                    title="Token")

    def _changed(self, said: str) -> None:
        self.notify(said, title="Users")
        self.load()


def _name(user: AuthUser) -> str:
    return user.email or user.phone or user.id


def _cells(user: AuthUser) -> tuple[str, str, str, Text]:
    return (_name(user), _when(user.created_at), _when(user.last_sign_in_at),
            _state(user))


def _state(user: AuthUser) -> Text:
    if user.deleted_at is not None:
        return Text("deleted", style="dim")
    if user.banned_until is not None and user.banned_until > datetime.now(UTC):
        return Text("banned", style="bold red")
    if user.email_confirmed_at is None:
        return Text("unconfirmed", style="yellow")
    return Text("confirmed", style="green")


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at is not None else "-"


def _detail_view(detail: UserDetail) -> Table:
    user = detail.user
    view = Table.grid(padding=(0, 2))
    view.add_column(style="bold")
    view.add_column()
    view.add_row("user", _name(user))
    view.add_row("id", user.id)
    view.add_row("state", _state(user))
    view.add_row("created", _when(user.created_at))
    view.add_row("last sign-in", _when(user.last_sign_in_at))
    view.add_row("banned until", _when(user.banned_until))
    view.add_row("providers", ", ".join(user.providers) or "-")
    view.add_row("app metadata", json.dumps(detail.app_metadata, indent=1, ensure_ascii=False))
    view.add_row("user metadata", json.dumps(detail.user_metadata, indent=1,
                                             ensure_ascii=False))
    view.add_row("identities", "\n".join(f"{p} ({i}), last sign-in {_when(at)}"
                                         for p, i, at in detail.identities) or "none")
    view.add_row("sessions", "\n".join(
        f"{s.id[:8]} created {_when(s.created_at)}, refreshed {_when(s.refreshed_at)}, "
        f"{s.refresh_tokens} refresh token(s)" for s in detail.sessions) or "none")
    view.add_row("referenced by", "\n".join(
        f"{r.table} ({r.columns}): {r.rows} row(s), on delete {r.on_delete}"
        for r in detail.references if r.rows) or "nothing")
    view.add_row("audit", "\n".join(f"{_when(at)} {action}" for at, action in detail.audit)
                 or "no entries")
    return view

