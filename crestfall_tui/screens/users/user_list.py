"""The Users tab: auth users paged by index in the order chosen, searched by id or the start
of an email or phone, the selected one in detail; what an operator does to one user, or to
every user marked."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Static

from crestfall_tui.modals import PickerModal, PromptModal, TextEditorModal, TextModal
from crestfall_tui.screens.base import ShowRows
from crestfall_tui.screens.users.shown import name, when
from crestfall_tui.services.auth_tokens import check_token, describe, mint_token
from crestfall_tui.services.run_as import RunAs
from crestfall_tui.services.units import parse_duration
from crestfall_tui.services.users import (
    FILTERS,
    PAGE,
    SORTS,
    AuthUser,
    UserDetail,
    UserError,
    Users,
    metadata_diff,
)
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.text_table import TextTable, plain

WRITES = ("new_user", "password", "confirm_email", "ban", "unban", "lockout", "revoke",
          "delete", "soft_delete", "metadata")
SORT_NAMES = {"created": "created (oldest first)", "last_sign_in": "last sign-in (latest "
              "first)", "email": "email (A to Z)", "phone": "phone"}


class UserList(Pane):
    """The users table, its search and filters, and the selected user's detail."""

    BINDINGS = [
        Binding("slash", "search", "Search", tooltip="By id, or the start of an email or "
                "phone", id="users.search"),
        Binding("f", "filter", "Filter", tooltip="Confirmed, banned, deleted, SSO, a provider",
                id="users.filter"),
        Binding("o", "sort", "Sort", tooltip="By creation, last sign-in, email or phone",
                id="users.sort"),
        Binding("asterisk", "contains", "Anywhere", show=False,
                tooltip="Search anywhere in the email or phone (reads every row), or back to "
                "the start", id="users.contains"),
        Binding("G", "last_page", "Last page", show=False,
                tooltip="The last users in this order (read from the index's end)",
                id="users.last_page"),
        Binding("number_sign", "count", "Count", show=False,
                tooltip="Count the users listed exactly (the count shown is an estimate)",
                id="users.count"),
        Binding("n", "new_user", "New", tooltip="A user with an email or a phone (and a "
                "password)",
                id="users.new"),
        Binding("space", "mark", "Mark", show=False, tooltip="Mark the user for a bulk ban "
                "or delete (b, D)", id="users.mark"),
        Binding("p", "password", "Password", show=False, tooltip="Set a new password",
                id="users.password"),
        Binding("c", "confirm_email", "Confirm", show=False,
                tooltip="Mark the email confirmed", id="users.confirm"),
        Binding("m", "metadata", "Metadata", show=False, tooltip="Edit the user's metadata "
                "(JSON, the change shown before it is written)", id="users.metadata"),
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
        Binding("V", "verify_token", "Verify token", show=False,
                tooltip="Decode a pasted token and check it against the stack",
                id="users.verify_token"),
        Binding("J", "jump", "Jump to rows", show=False, tooltip="Open, in Tables, the rows "
                "of another table that point at the user", id="users.jump"),
        Binding("a", "run_as", "Run as", tooltip="Open Query as this user (row-level "
                "security applies)", id="users.run_as"),
    ]

    def __init__(self, users: Users, jwt_secret: str | None,
                 run_as: Callable[[RunAs], None], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.users = users
        self.jwt_secret = jwt_secret
        self.open_as = run_as
        self.shown: list[AuthUser] = []
        self.marked: dict[str, AuthUser] = {}
        self.filters: tuple[str, ...] = ()
        self.search = ""
        self.sort = "created"
        self.contains = False
        self._more = False
        self._count = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="users-body"):
            with Vertical(id="users-left"):
                yield Input(placeholder="search: an id, or the start of an email or phone",
                            id="users-search")
                yield Static("", id="users-filters")
                yield TextTable(id="users-table")
            with VerticalScroll(id="users-detail"):
                yield Static("", id="users-detail-text")

    def on_mount(self) -> None:
        self.query_one("#users-detail").border_title = "User"
        self.load()

    def _fresh_table(self) -> DataTable[object]:
        """The table emptied, its columns again: widths fit what this list shows, not
        the widest value any earlier list held."""
        table: DataTable[object] = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column(" ", key="mark", width=1)
        for column in ("user", "created", "last sign-in", "state"):
            table.add_column(column, key=column)
        return table

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A read-only stack's login cannot write: its write keys are not offered.
        return not (action in WRITES and self.users.postgres.read_only)

    @property
    def selected(self) -> AuthUser | None:
        table = self.query_one(DataTable)
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def _targets(self) -> list[AuthUser]:
        """The users marked, or else the one selected."""
        if self.marked:
            return list(self.marked.values())
        return [] if self.selected is None else [self.selected]

    # --- reading --------------------------------------------------------------------------

    @work(group="load", exclusive=True, exit_on_error=False)
    async def action_last_page(self) -> None:
        found = await self.users.page(self.search, filters=self.filters, sort=self.sort,
                                      contains=self.contains, last=True)
        table = self._fresh_table()
        self.shown = found
        self._more = False
        for user in found:
            table.add_row(*self._cells(user), key=user.id)
        table.move_cursor(row=len(found) - 1)
        self._say_state()
        self.notify("the last users in this order; o, f or a search starts again from the "
                    "first", title="Users", timeout=4)

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self, more: bool = False) -> None:
        """The first page (or the next one) of the users the search and filters allow, in
        the order chosen; the count is the planner's estimate until `#` counts."""
        after = self.shown[-1] if more and self.shown else None
        keep = self.selected.id if not more and self.selected else None
        found = await self.users.page(self.search, filters=self.filters, sort=self.sort,
                                      contains=self.contains, after=after)
        table = self.query_one(DataTable)
        if not more:
            self.shown = []
            table = self._fresh_table()
            self._count = str(await self.users.count(self.search, filters=self.filters,
                                                     contains=self.contains))
        self._more = len(found) == PAGE
        for user in found:
            self.shown.append(user)
            table.add_row(*self._cells(user), key=user.id)
        self._say_state()
        if not more:
            if keep is not None and keep in table.rows:  # read again after a change: the
                table.move_cursor(row=table.get_row_index(keep))  # cursor stays on its user
            self.show_detail()

    def _say_state(self) -> None:
        parts = [f"{len(self.shown):,} shown of {self._count}",
                 f"sort: {SORT_NAMES[self.sort]}",
                 f"filters: {', '.join(self.filters) or 'none'}"]
        if self.contains:
            parts.append("search: anywhere (reads every row)")
        if self.marked:
            parts.append(f"{len(self.marked)} marked")
        self.query_one("#users-filters", Static).update(" · ".join(parts))

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

    def action_contains(self) -> None:
        self.contains = not self.contains
        self.notify("search anywhere in the email or phone: this reads every row"
                    if self.contains else "search by the start of the email or phone "
                    "(by index)", title="Users", timeout=4)
        self.load()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_filter(self) -> None:
        choices = [(("✓ " if name in self.filters else "  ") + name, name) for name in FILTERS]

        def matching(search: str) -> list[tuple[str, str]]:
            found = [c for c in choices if search.lower() in c[1]]
            if search and search not in FILTERS:  # any provider by name
                found.append((f"  provider:{search}", f"provider:{search}"))
            return found

        chosen = await self.app.push_screen_wait(PickerModal("Filter (toggle)", matching))
        if chosen:
            self.filters = tuple(f for f in self.filters if f != chosen) if chosen in \
                self.filters else (*self.filters, chosen)
            self.load()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_sort(self) -> None:
        chosen = await self.app.push_screen_wait(PickerModal(
            "Sort by", lambda search: [(("✓ " if key == self.sort else "  ") + name, key)
                                       for key, name in SORT_NAMES.items()
                                       if search.lower() in name]))
        if chosen in SORTS:
            self.sort = chosen
            self.load()

    @work(group="count", exclusive=True, exit_on_error=False)
    async def action_count(self) -> None:
        self._count = "counting…"
        self._say_state()
        self._count = str(await self.users.count(self.search, filters=self.filters,
                                                 contains=self.contains, exact=True))
        self._say_state()

    def action_mark(self) -> None:
        user = self.selected
        if user is None:
            return
        if self.marked.pop(user.id, None) is None:
            self.marked[user.id] = user
        table = self.query_one(DataTable)
        table.update_cell(user.id, "mark", "●" if user.id in self.marked else " ")
        table.action_cursor_down()
        self._say_state()

    # --- writing --------------------------------------------------------------------------

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_new_user(self) -> None:
        address = await self.app.push_screen_wait(PromptModal(
            "New user's email, or phone (as +15551234567):"))
        if not address:
            return
        email, phone = (address, None) if "@" in address else (None, address)
        password = await self.app.push_screen_wait(PromptModal(
            "Password (empty: none, the user signs in by a link or OTP):", empty_allowed=True,
            password=True))
        if password is None:
            return
        confirmed = await self.confirm(f"Mark {address} as confirmed?", "Confirmed")
        user = await self.users.create(email, password or None, confirmed=confirmed,
                                       phone=phone)
        self.notify(f"created {name(user)}", title="Users")
        self.search = user.email or user.phone or ""
        self.query_one("#users-search", Input).value = self.search
        self.load()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_ban(self) -> None:
        targets = self._targets()
        if not targets:
            return
        answer = await self.app.push_screen_wait(PromptModal(
            f"Ban {_names(targets)} for (30m, 24h, 7d, ...); their sessions stay (L locks "
            "out):", "24h"))
        if answer:
            duration = parse_duration(answer)
            for user in targets:
                await self.users.ban(user.id, duration)
            self._changed(f"banned {_names(targets)} for {answer}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_password(self) -> None:
        user = self.selected
        if user is None:
            return
        password = await self.app.push_screen_wait(PromptModal(
            f"New password for {name(user)}:", password=True))
        if password:
            await self.users.set_password(user.id, password)
            self._changed(f"set a new password for {name(user)}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_confirm_email(self) -> None:
        if (user := self.selected) is not None:
            await self.users.confirm(user.id)
            self._changed(f"confirmed {name(user)}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_metadata(self) -> None:
        """Edit app or user metadata as JSON; the change is shown as a diff and asked about
        before it is written. JSON that does not parse comes back to the editor."""
        user = self.selected
        if user is None:
            return
        which = await self.app.push_screen_wait(PickerModal(
            "Which metadata", lambda search: [(label, key) for key, label in (
                ("user", "user metadata (the user may set it)"),
                ("app", "app metadata (providers, roles: only the service sets it)"))
                if search.lower() in label]))
        if which is None:
            return
        detail = await self.users.detail(user.id)
        before = detail.app_metadata if which == "app" else detail.user_metadata
        text: str | None = json.dumps(before, indent=2, ensure_ascii=False)
        error = None
        while True:
            text = await self.app.push_screen_wait(TextEditorModal(
                f"{which} metadata of {name(user)}", text or "", language="json",
                error=error))
            if text is None:
                return
            try:
                after = json.loads(text)
                if not isinstance(after, dict):
                    raise ValueError("metadata is a JSON object ({...})")
                break
            except ValueError as failure:
                error = f"not kept: {failure}"
        diff = "\n".join(metadata_diff(before, after))
        if not diff:
            self.notify("no change", title="Users")
            return
        if await self.confirm(f"Write this change to the {which} metadata of {name(user)}?"
                              f"\n\n{diff}", "Write"):
            await self.users.set_metadata(user.id, which, json.dumps(after))
            self._changed(f"changed the {which} metadata of {name(user)}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_unban(self) -> None:
        for user in (targets := self._targets()):
            await self.users.unban(user.id)
        if targets:
            self._changed(f"unbanned {_names(targets)}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_lockout(self) -> None:
        user = self.selected
        if user is None or not await self.confirm(
                f"Lock {name(user)} out now: ban them and end every session and refresh "
                "token, in one transaction?", "Lock out"):
            return
        done = await self.users.lockout(user.id)
        self._changed(f"locked out {name(user)}: {done.sessions} session(s) and "
                      f"{done.refresh_tokens} refresh token(s) ended; access tokens issued "
                      f"before stay valid until {done.complete_at:%H:%M:%S}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_revoke(self) -> None:
        user = self.selected
        if user is not None and await self.confirm(
                f"End every session of {name(user)}? (They are not banned.)", "End"):
            ended = await self.users.revoke(user.id)
            self._changed(f"ended {ended} session(s) of {name(user)}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_delete(self) -> None:
        """Delete after showing what points at each user; typed confirmation."""
        targets = self._targets()
        if not targets:
            return
        lines, blocked = [], []
        for user in targets:
            references = [r for r in await self.users.references(user.id) if r.rows]
            blocked += [f"{name(user)}: {r.table} ({r.rows} row(s), {r.on_delete})"
                        for r in references if r.blocks]
            lines += [f"{name(user)}: {r.table} ({r.columns}), {r.rows} row(s)"
                      for r in references if not r.blocks]
        if blocked:
            self.app.push_screen(TextModal("Cannot delete: rows that block it",
                                           "\n".join(blocked)))
            return
        expected = str(len(targets)) if len(targets) > 1 else (targets[0].email
                                                                or targets[0].id)
        answer = await self.app.push_screen_wait(PromptModal(
            f"Delete {_names(targets)} for good? With them go: "
            + ("; ".join(lines) or "nothing else")
            + f". Type {expected} to confirm (escape cancels):", warning=True))
        if answer is not None and answer.strip().lower() == expected.lower():
            for user in targets:
                await self.users.delete(user.id)
            self.marked.clear()
            self._changed(f"deleted {_names(targets)}")
        elif answer is not None:
            self.notify("nothing deleted: the text typed was not the one asked for",
                        severity="warning")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_soft_delete(self) -> None:
        user = self.selected
        if user is not None and await self.confirm(
                f"Soft delete {name(user)} as GoTrue does: the row stays, but nothing "
                "identifies them (email and phone obfuscated, no password, identities and "
                "sessions gone)?", "Soft delete"):
            await self.users.delete(user.id, soft=True)
            self._changed(f"soft deleted {name(user)}")

    def action_token(self) -> None:
        user = self.selected
        if user is None:
            return
        if self.jwt_secret is None:
            raise UserError("this stack's JWT secret is not known here")
        token = mint_token(user.id, user.email, self.jwt_secret, timedelta(hours=1),
                           anonymous=user.is_anonymous)
        self.app.copy_to_clipboard(token)
        self.notify(f"copied an access token for {name(user)}, valid for an hour: "
                    f"{token[:10]}…{token[-4:]} (masked)", title="Token", markup=False)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_verify_token(self) -> None:
        token = await self.app.push_screen_wait(PromptModal(
            "Paste the token (JWT) to decode and check:", password=True))
        if token:
            self.app.push_screen(TextModal("Token", describe(check_token(token,
                                                                         self.jwt_secret))))

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_jump(self) -> None:
        user = self.selected
        if user is None:
            return
        found = [r for r in await self.users.references(user.id) if r.rows and r.name
                 and "," not in r.columns]
        if not found:
            self.notify(f"no rows point at {name(user)}", title="Users")
            return
        chosen = await self.app.push_screen_wait(PickerModal(
            f"Rows that point at {name(user)}", lambda search: [
                (f"{r.table} ({r.columns}): {r.rows} row(s)", str(index))
                for index, r in enumerate(found) if search in r.table]))
        if chosen is not None:
            reference = found[int(chosen)]
            self.post_message(ShowRows(reference.schema, reference.name, reference.columns,
                                       user.id))

    def action_run_as(self) -> None:
        user = self.selected
        if user is not None:
            self.open_as(RunAs("authenticated", user_id=user.id, email=user.email))
            self.app.switch_mode("query")
            self.notify(f"Query and Tables run as {name(user)} (row-level security "
                        "applies); ctrl+n there changes it", title="Run as")

    def _changed(self, said: str) -> None:
        self.notify(said, title="Users")
        self.load()

    def _cells(self, user: AuthUser) -> tuple[str, str, str, str, Text]:
        return ("●" if user.id in self.marked else " ", name(user), when(user.created_at),
                when(user.last_sign_in_at), _state(user))


def _names(users: list[AuthUser]) -> str:
    return name(users[0]) if len(users) == 1 else f"{len(users)} users"


def _state(user: AuthUser) -> Text:
    if user.deleted_at is not None:
        return Text("deleted", style="dim")
    if user.banned_until is not None and user.banned_until > datetime.now(UTC):
        return Text("banned", style="bold red")
    if user.email_confirmed_at is None:
        return Text("unconfirmed", style="yellow")
    return Text("confirmed", style="green")


def _detail_view(detail: UserDetail) -> Table:
    user = detail.user
    view = Table.grid(padding=(0, 2))
    view.add_column(style="bold")
    view.add_column()
    _row(view, "user", name(user))
    _row(view, "id", user.id)
    _row(view, "state", _state(user))
    _row(view, "created", when(user.created_at))
    _row(view, "last sign-in", when(user.last_sign_in_at))
    _row(view, "banned until", when(user.banned_until))
    _row(view, "providers", ", ".join(user.providers) or "-")
    _row(view, "app metadata", Text(json.dumps(detail.app_metadata, indent=2,
                                                 ensure_ascii=False)))
    _row(view, "user metadata", Text(json.dumps(detail.user_metadata, indent=2,
                                                  ensure_ascii=False)))
    _row(view, "identities", "\n".join(f"{p} ({i}), last sign-in {when(at)}"
                                         for p, i, at in detail.identities) or "none")
    _row(view, "sessions", "\n".join(
        f"{s.id[:8]} created {when(s.created_at)}, refreshed {when(s.refreshed_at)}, "
        f"{s.refresh_tokens} refresh token(s)" for s in detail.sessions) or "none")
    _row(view, "MFA factors", "\n".join(f"{kind} {label} ({status}), since {when(at)}"
                                          for kind, status, label, at in detail.factors)
                 or "none")
    _row(view, "referenced by", "\n".join(
        f"{r.table} ({r.columns}): {r.rows} row(s), on delete {r.on_delete}"
        for r in detail.references if r.rows) or "nothing")
    _row(view, "audit", "\n".join(f"{when(at)} {action}" for at, action in detail.audit)
                 or "no entries")
    return view


def _row(view: Table, label: str, value: object) -> None:
    """A line of the detail: what the database holds is shown as written, never as markup
    (an MFA factor's name, an identity's id)."""
    view.add_row(label, plain(value))  # type: ignore[arg-type]
