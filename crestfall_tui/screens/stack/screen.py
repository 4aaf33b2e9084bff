"""The Stack screen: every service's health, the extensions, connection strings, lifecycle."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Header, RichLog, Static

from crestfall_tui.errors import CrestfallError
from crestfall_tui.modals import PromptModal
from crestfall_tui.screens.base import CrestfallScreen
from crestfall_tui.services.extensions import Extensions
from crestfall_tui.stack.model import Connection, Progress, ServiceState, StackStatus
from crestfall_tui.stack.runtime import Runtime
from crestfall_tui.widgets import ConnectionList, ExtensionList, ServiceTable


class StackScreen(CrestfallScreen):
    """The stack's service map, refreshed in the background."""

    CSS_PATH = "stack.tcss"
    AUTO_FOCUS = "#services"
    SECTION = "Stack"
    ABOUT = "Every service of the stack, probed every few seconds."
    BINDINGS = [
        Binding("u", "up", "Start", tooltip="Start what is down, wait until healthy",
                id="stack.up"),
        Binding("r", "restart", "Restart", tooltip="Restart the selected service",
                id="stack.restart"),
        Binding("s", "stop", "Stop", tooltip="Stop every service; the data stays",
                id="stack.stop"),
        Binding("D", "delete_volumes", "Delete data",
                tooltip="Stop the stack and delete its volumes (docker)", id="stack.delete"),
        Binding("v", "toggle_secrets", "Secrets", tooltip="Reveal or hide passwords and keys",
                id="stack.secrets"),
        Binding("ctrl+r", "refresh", "Refresh", tooltip="Probe every service now",
                id="stack.refresh"),
    ]
    REFRESH_SECONDS = 3.0

    reveal: reactive[bool] = reactive(False)
    """Whether passwords and keys are shown in full."""
    busy: reactive[bool] = reactive(False, bindings=True)
    """Whether a start, stop or restart is running."""

    class StatusRead(Message):
        """A fresh status of every service, and how to connect."""

        def __init__(self, status: StackStatus, connections: list[Connection]) -> None:
            super().__init__()
            self.status = status
            self.connections = connections

    class StepDone(Message):
        """One step of a start, stop or restart."""

        def __init__(self, step: Progress) -> None:
            super().__init__()
            self.step = step

    class LifecycleEnded(Message):
        """A start, stop or restart finished (well or not)."""

    class StatusFailed(Message):
        """The status could not be read at all (the Docker engine does not answer, say)."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(self, runtime: Runtime, extensions: Extensions,
                 first_status: Future[StackStatus] | None = None) -> None:
        super().__init__()
        self.runtime = runtime
        self._first_status = first_status
        """A probe started before the studio was drawn, answered by the first refresh."""
        self.extensions = extensions
        self._connections: list[Connection] = []
        self._extensions_for: datetime | None = None
        self._failure: str | None = None
        """Why the status cannot be read, while it cannot: said once, probed quietly."""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="stack-body"):
            yield ServiceTable(id="services")
            yield Static(id="status-problem")
            with Horizontal(id="details"):
                yield ConnectionList(id="connections")
                yield ExtensionList("reading extensions…", id="extensions")
            yield RichLog(id="activity", markup=False, wrap=True, max_lines=500)
        yield Footer()

    def commands(self) -> Iterable[SystemCommand]:
        if self.runtime.manages_services:
            yield SystemCommand("Stack: start", "Start what is down", self.action_up)
            yield SystemCommand("Stack: stop", "Stop every service", self.action_stop)
            yield SystemCommand("Stack: restart selected service",
                                "Restart the service under the cursor", self.action_restart)
        yield SystemCommand("Stack: refresh", "Probe every service now", self.action_refresh)
        yield SystemCommand("Stack: reveal or hide secrets", "Toggle passwords and keys",
                            self.action_toggle_secrets)

    def on_mount(self) -> None:
        self.query_one("#services").border_title = "Services"
        self.query_one("#connections").border_title = "Connections"
        self.query_one("#extensions").border_title = "Extensions"
        self.query_one("#activity").border_title = "Activity"
        self.title = f"Crestfall · stack {self.runtime.stack.name} ({self.runtime.name})"
        self.set_interval(self.REFRESH_SECONDS, self.refresh_status)
        self.set_interval(1.0, self.query_one(ServiceTable).refresh_uptimes)
        if self.runtime.manages_services:
            self.run_lifecycle("up")  # shows the current status first, then starts what is down
        else:
            self.refresh_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("up", "restart", "stop", "delete_volumes"):
            if not self.runtime.manages_services:
                return False
            if action == "delete_volumes" and self.runtime.name != "docker":
                return False
            return None if self.busy else True
        return True

    def action_refresh(self) -> None:
        self.refresh_status()

    def action_up(self) -> None:
        self.run_lifecycle("up")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_restart(self) -> None:
        service = self.query_one(ServiceTable).selected_service
        if service is not None and await self.confirm(
                f"Restart {service}? Its clients are disconnected.", "Restart"):
            self.run_lifecycle("restart", service)

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_stop(self) -> None:
        if await self.confirm(f"Stop every service of stack '{self.runtime.stack.name}'? "
                              "The data stays.", "Stop"):
            self.run_lifecycle("down")

    @work(group="ask", exclusive=True, exit_on_error=False)
    async def action_delete_volumes(self) -> None:
        """Destroying the data is confirmed by typing the stack's name, not by one key."""
        name = self.runtime.stack.name
        answer = await self.app.push_screen_wait(PromptModal(
            f"Stop stack '{name}' and DELETE its volumes: every row of its database and every "
            "search document is lost for good. Type the stack's name to confirm "
            "(escape cancels):", warning=True))
        if answer is None:
            return
        if answer != name:
            self.notify(f"nothing deleted: {answer!r} is not the stack's name ({name!r})",
                        title="Delete data", severity="warning", markup=False)
            return
        self.run_lifecycle("delete")

    def action_toggle_secrets(self) -> None:
        self.reveal = not self.reveal

    def watch_reveal(self, reveal: bool) -> None:
        self.query_one(ConnectionList).show(self._connections, reveal=reveal)

    def watch_busy(self, busy: bool) -> None:
        # On the table, not the screen: a class on the screen restyles every widget on it.
        self.query_one(ServiceTable).set_class(busy, "-busy")

    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def refresh_status(self) -> None:
        """Probe every service (blocking probes, so a thread). A status that cannot be read
        is shown in place, not as an error on every probe."""
        try:
            status = self.runtime.status()
            connections = self.runtime.connections()
        except CrestfallError as error:
            self.post_message(self.StatusFailed(error.message))
            return
        self.post_message(self.StatusRead(status, connections))

    @work(thread=True, exclusive=True, group="lifecycle", exit_on_error=False)
    def run_lifecycle(self, action: str, service: str | None = None) -> None:
        """Start, stop or restart, reporting each step as it happens."""
        def report(step: Progress) -> None:
            self.post_message(self.StepDone(step))

        self.post_message(self.StepDone(Progress("stack", ServiceState.STARTING, f"{action} "
                                                 f"{service or ''}".strip() + "…")))
        try:
            if action == "up":
                self.post_message(self.StatusRead(self._current_status(),
                                                  self.runtime.connections()))
                status = self.runtime.up(report)
            elif action == "down":
                status = self.runtime.down(report)
            elif action == "delete":
                status = self.runtime.down(report, volumes=True)
            else:
                assert service is not None
                status = self.runtime.restart(service, report)
            self.post_message(self.StatusRead(status, self.runtime.connections()))
        except CrestfallError as error:
            report(Progress(error.title, ServiceState.UNHEALTHY, f"failed: {error.message}"))
            raise
        finally:
            self.post_message(self.LifecycleEnded())

    def _current_status(self) -> StackStatus:
        """The early probe's answer the first time, a fresh probe after that."""
        early, self._first_status = self._first_status, None
        if early is not None and not early.cancelled():
            return early.result()
        return self.runtime.status()

    @work(exclusive=True, group="extensions", exit_on_error=False)
    async def load_extensions(self) -> None:
        """Read which extensions the database has."""
        extensions = self.query_one(ExtensionList)
        try:
            extensions.show(await self.extensions.list())
        except CrestfallError as error:
            self._extensions_for = None
            extensions.unavailable(error.message)

    @on(StatusFailed)
    def status_failed(self, message: StatusFailed) -> None:
        problem = self.query_one("#status-problem", Static)
        problem.update(f"No status: {message.reason} (probing again every "
                       f"{self.REFRESH_SECONDS:g}s)")
        problem.display = True
        self._extensions_for = None
        self.query_one(ExtensionList).unavailable("no status, so no extensions")
        if message.reason != self._failure:
            self._failure = message.reason
            self.query_one(RichLog).write(f"{datetime.now():%H:%M:%S} status: "
                                          f"{message.reason}")

    @on(StatusRead)
    def show_status(self, message: StatusRead) -> None:
        if self._failure is not None:
            self._failure = None
            self.query_one("#status-problem", Static).display = False
            self.query_one(RichLog).write(f"{datetime.now():%H:%M:%S} status: read again")
        self.query_one(ServiceTable).show(message.status)
        self._connections = message.connections
        self.query_one(ConnectionList).show(self._connections, reveal=self.reveal)
        db = message.status.service("db")
        if db.state != ServiceState.HEALTHY:
            self._extensions_for = None
            self.query_one(ExtensionList).unavailable(f"db is {db.state.value}")
        elif self._extensions_for != db.started_at or db.started_at is None:
            self._extensions_for = db.started_at
            self.load_extensions()

    @on(StepDone)
    def show_step(self, message: StepDone) -> None:
        step = message.step
        self.busy = True
        self.query_one(ServiceTable).show_progress(step)
        self.query_one(RichLog).write(f"{datetime.now():%H:%M:%S} {step.service}: {step.message}")

    @on(LifecycleEnded)
    def lifecycle_ended(self) -> None:
        self.busy = False
        self.refresh_status()
