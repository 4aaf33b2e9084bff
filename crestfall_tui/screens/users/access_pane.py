"""The Access tab: authorization as the stack keeps it (roles, their permissions, who holds
them), what a chosen user may do (asked of `is_authorized()` as that user), and each
table's row-level security with its policies."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from crestfall_tui.modals import PickerModal, PromptModal, TextModal
from crestfall_tui.services.authz import Authorization, Role
from crestfall_tui.services.run_as import RunAs
from crestfall_tui.services.users import Users
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.text_table import TextTable

WRITES = ("new_role", "new_permission", "grant", "revoke", "assign", "unassign",
          "drop_role")


class AccessPane(Pane):
    """Roles on the left, the selected role's permissions and holders on the right."""

    BINDINGS = [
        Binding("n", "new_role", "New role", id="access.new_role"),
        Binding("P", "new_permission", "New permission", id="access.new_permission"),
        Binding("g", "grant", "Grant", tooltip="Give the role a permission",
                id="access.grant"),
        Binding("v", "revoke", "Revoke", show=False, tooltip="Take a permission from the role",
                id="access.revoke"),
        Binding("a", "assign", "Assign", tooltip="Give a user the role", id="access.assign"),
        Binding("U", "unassign", "Unassign", show=False, tooltip="Take the role from a user",
                id="access.unassign"),
        Binding("X", "drop_role", "Drop role", show=False, id="access.drop_role"),
        Binding("w", "matrix", "What may…", tooltip="What a user may do: is_authorized() "
                "asked as them, for every permission", id="access.matrix"),
        Binding("T", "tables", "Tables' RLS", tooltip="Each table's row-level security and "
                "policies, and which call is_authorized()", id="access.tables"),
        Binding("r", "reload", "Reload", id="access.reload"),
    ]

    def __init__(self, authz: Authorization, users: Users, *,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.authz = authz
        self.users = users
        self.roles: list[Role] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="access-body"):
            yield TextTable(id="access-roles")
            yield Static("", id="access-role")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("role", "permissions", "users", "description"):
            table.add_column(column, key=column)
        table.border_title = "Roles (authz)"
        self.query_one("#access-role").border_title = "Role"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in WRITES and self.authz.postgres.read_only)

    def action_reload(self) -> None:
        self.load()

    @property
    def selected(self) -> Role | None:
        row = self.query_one(DataTable).cursor_row
        return self.roles[row] if 0 <= row < len(self.roles) else None

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        self.roles = await self.authz.roles()
        self.query_one(TextTable).replace_rows(
            (role.name, (role.name, str(len(role.permissions)), str(role.users),
                         role.description)) for role in self.roles)
        self.show_role()

    @on(DataTable.RowHighlighted)
    def highlighted(self) -> None:
        self.show_role()

    def show_role(self) -> None:
        role = self.selected
        shown = self.query_one("#access-role", Static)
        if role is None:
            shown.update("No roles yet: n makes one, P a permission, g grants it, a assigns "
                         "the role to a user.")
            return
        shown.update(f"{role.name}: {role.description or '(no description)'}\n\n"
                     f"permissions:\n" + ("\n".join(f"  {p}" for p in role.permissions)
                                          or "  none")
                     + f"\n\nheld by {role.users} user(s)")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_new_role(self) -> None:
        answer = await self.app.push_screen_wait(PromptModal(
            "New role: its name, then optionally a description after a space:"))
        if answer:
            role, _, description = answer.strip().partition(" ")
            await self.authz.create_role(role, description.strip())
            self._changed(f"created the role {role}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_new_permission(self) -> None:
        answer = await self.app.push_screen_wait(PromptModal(
            "New permission (e.g. posts.update), then optionally a description after a "
            "space:"))
        if answer:
            permission, _, description = answer.strip().partition(" ")
            await self.authz.create_permission(permission, description.strip())
            self._changed(f"created the permission {permission}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_grant(self) -> None:
        role = self.selected
        if role is None:
            return
        names = [p.name for p in await self.authz.permissions() if p.name not in role.permissions]
        chosen = await self.app.push_screen_wait(PickerModal(
            f"Grant {role.name} the permission", lambda s: [(n, n) for n in names if s in n]))
        if chosen:
            await self.authz.grant(role.name, chosen)
            self._changed(f"granted {chosen} to {role.name}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_revoke(self) -> None:
        role = self.selected
        if role is None or not role.permissions:
            return
        chosen = await self.app.push_screen_wait(PickerModal(
            f"Revoke from {role.name}", lambda s: [(n, n) for n in role.permissions if s in n]))
        if chosen:
            await self.authz.revoke(role.name, chosen)
            self._changed(f"revoked {chosen} from {role.name}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_assign(self) -> None:
        role = self.selected
        if role is not None and (user := await self._ask_user(f"Give {role.name} to")):
            await self.authz.assign(user[0], role.name)
            self._changed(f"gave {role.name} to {user[1]}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_unassign(self) -> None:
        role = self.selected
        if role is not None and (user := await self._ask_user(f"Take {role.name} from")):
            await self.authz.unassign(user[0], role.name)
            self._changed(f"took {role.name} from {user[1]}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_drop_role(self) -> None:
        role = self.selected
        if role is not None and await self.confirm(
                f"Drop the role {role.name}? Its {len(role.permissions)} grant(s) and its "
                f"{role.users} holder(s) go with it.", "Drop"):
            await self.authz.drop_role(role.name)
            self._changed(f"dropped the role {role.name}")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_matrix(self) -> None:
        user = await self._ask_user("What may this user do? (email or id)")
        if user is None:
            return
        user_id, label = user
        permissions = await self.authz.matrix(RunAs("authenticated", user_id=user_id,
                                                    email=label))
        roles = await self.authz.user_roles(user_id)
        lines = [f"{label}: roles {', '.join(roles) or 'none'}; is_authorized() asked as "
                 "them (role authenticated, their claims):", ""]
        lines += [f"  {'yes' if p.allowed else 'no '}  {p.name}" for p in permissions]
        self.app.push_screen(TextModal(f"What {label} may do", "\n".join(lines)
                                       if permissions else "No permissions defined yet."))

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_tables(self) -> None:
        lines = []
        for table in await self.authz.table_security():
            state = "RLS on" + (" (forced)" if table.forced else "") if table.enabled \
                else "RLS OFF"
            lines.append(f"{table.table}: {state}, {len(table.policies)} polic"
                         f"{'y' if len(table.policies) == 1 else 'ies'}"
                         + (", calls is_authorized()" if table.calls_is_authorized else ""))
            for policy in table.policies:
                lines.append(f"    {policy.name} ({policy.command} to "
                             f"{', '.join(policy.roles)})"
                             + (" [is_authorized]" if policy.calls_is_authorized else ""))
                if policy.using:
                    lines.append(f"        using {policy.using}")
                if policy.check:
                    lines.append(f"        with check {policy.check}")
        self.app.push_screen(TextModal("Row-level security, table by table",
                                       "\n".join(lines) or "no tables"))

    async def _ask_user(self, question: str) -> tuple[str, str] | None:
        answer = await self.app.push_screen_wait(PromptModal(question + " (email or id):"))
        if not answer:
            return None
        user = await self.users.find(answer)
        return user.id, user.email or user.phone or user.id

    def _changed(self, said: str) -> None:
        self.notify(said, title="Access")
        self.load()


