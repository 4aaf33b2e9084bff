"""The Sessions tab: every session of every user, newest first and paged by index, with
what to look at first (users holding many sessions, sessions left unrefreshed), and a key
to end one."""

from __future__ import annotations

from datetime import timedelta

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from crestfall_tui.modals import PromptModal
from crestfall_tui.screens.users.shown import when
from crestfall_tui.services.units import parse_duration
from crestfall_tui.services.users import AuthSession, Users
from crestfall_tui.widgets.pane import Pane
from crestfall_tui.widgets.text_table import TextTable

PAGE = 200


class SessionsPane(Pane):
    """All sessions, and the anomalies above them."""

    BINDINGS = [
        Binding("x", "revoke", "End session", tooltip="End the selected session and its "
                "refresh tokens", id="sessions.revoke"),
        Binding("N", "thresholds", "Thresholds", tooltip="What counts as many sessions, and "
                "as stale", id="sessions.thresholds"),
        Binding("r", "reload", "Reload", id="sessions.reload"),
    ]

    def __init__(self, users: Users, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.users = users
        self.shown: list[AuthSession] = []
        self.max_sessions = 5
        self.stale = timedelta(days=30)
        self._more = False

    def compose(self) -> ComposeResult:
        yield Static("", id="sessions-anomalies")
        yield TextTable(id="sessions-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("user", "session", "created", "refreshed", "not after", "aal", "ip",
                       "user agent", "refresh tokens"):
            table.add_column(column, key=column)
        self.query_one("#sessions-anomalies").border_title = "Anomalies"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "revoke" and self.users.postgres.read_only)

    def action_reload(self) -> None:
        self.load()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self, more: bool = False) -> None:
        before = self.shown[-1] if more and self.shown else None
        found = await self.users.sessions(limit=PAGE, before=before)
        table = self.query_one(DataTable)
        if not more:
            self.shown = []
            table.clear()
            self.show_anomalies()
        self._more = len(found) == PAGE
        for session in found:
            self.shown.append(session)
            table.add_row(session.user or session.user_id, session.id[:8],
                          when(session.created_at), when(session.refreshed_at),
                          when(session.not_after), session.aal or "-", session.ip or "-",
                          (session.user_agent or "-")[:40], str(session.refresh_tokens),
                          key=session.id)
        self.query_one(DataTable).border_title = (
            f"Sessions, newest first: {len(self.shown):,}{'+' if self._more else ''}")

    @work(group="anomalies", exclusive=True, exit_on_error=False)
    async def show_anomalies(self) -> None:
        found = await self.users.anomalies(max_sessions=self.max_sessions, stale=self.stale)
        lines = [f"users with more than {self.max_sessions} sessions: "
                 + (", ".join(f"{user or user_id} ({count})"
                              for user_id, user, count in found.crowded[:8]) or "none")]
        stale = found.stale_sessions
        line = f"sessions not refreshed for {found.stale.days} days: {len(stale)}"
        if stale:
            _session, user_id, user, since = stale[0]
            line += f"{'+' if len(stale) == 100 else ''}, the oldest of {user or user_id} " \
                    f"since {when(since)}"
        lines.append(line)
        self.query_one("#sessions-anomalies", Static).update("\n".join(lines))

    @on(DataTable.RowHighlighted)
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._more and event.cursor_row >= len(self.shown) - 10:
            self._more = False
            self.load(more=True)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_revoke(self) -> None:
        row = self.query_one(DataTable).cursor_row
        if not 0 <= row < len(self.shown):
            return
        session = self.shown[row]
        who = session.user or session.user_id
        if await self.confirm(f"End session {session.id[:8]} of {who} and its refresh "
                              "tokens?", "End"):
            await self.users.revoke(session.user_id, session.id)
            self.notify(f"ended session {session.id[:8]}", title="Sessions")
            self.load()

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_thresholds(self) -> None:
        answer = await self.app.push_screen_wait(PromptModal(
            "Flag users with more than N sessions, and sessions not refreshed for D "
            "(as `N D`, e.g. 5 30d):", f"{self.max_sessions} {self.stale.days}d"))
        if not answer:
            return
        count, _, age = answer.strip().partition(" ")
        if not count.isdigit():
            self.notify(f"not a number of sessions: {count}", severity="warning")
            return
        self.max_sessions = int(count)
        self.stale = parse_duration(age or "30d")
        self.show_anomalies()

