"""One row per service: state in colour, port, version, uptime, the last health detail."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.widgets import DataTable

from crestfall_tui.stack.model import Progress, ServiceState, ServiceStatus, StackStatus

COLUMNS = ("service", "state", "port", "version", "uptime", "detail")
WIDTHS = {"service": 7, "state": 15, "port": 5, "version": 8, "uptime": 8, "detail": 76}
"""Every column fixed: a width that changes after the first paint left the header drawn at
the old one (seen under load); a longer detail is cut at 76 characters."""
MARKS = {
    ServiceState.HEALTHY: "●",
    ServiceState.STARTING: "◐",
    ServiceState.UNHEALTHY: "▲",
    ServiceState.DOWN: "○",
    ServiceState.NOT_INSTALLED: "·",
}


class ServiceTable(DataTable[Text | str]):
    """The stack's services; the cursor picks the one that restart acts on."""

    DEFAULT_CSS = """
    ServiceTable { height: auto; max-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._started: dict[str, datetime | None] = {}

    def on_mount(self) -> None:
        # Fixed widths: the table never lays its columns out again as states, versions and
        # details change from probe to probe.
        for column in COLUMNS:
            self.add_column(column, key=column, width=WIDTHS.get(column))

    @property
    def selected_service(self) -> str | None:
        """The name of the service under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def show(self, status: StackStatus) -> None:
        """Replace every row's cells with a fresh status."""
        for service in status.services:
            self._started[service.name] = service.started_at
            cells = self._cells(service)
            if service.name in self.rows:
                for column, value in zip(COLUMNS, cells, strict=True):
                    self.update_cell(service.name, column, value)
            else:
                self.add_row(*cells, key=service.name)
        self.refresh_uptimes()

    def show_progress(self, step: Progress) -> None:
        """Show one step of bringing a service up or down, before the next full status."""
        if step.service in self.rows:
            self.update_cell(step.service, "state", self._state(step.state))
            self.update_cell(step.service, "detail", step.message)

    def refresh_uptimes(self) -> None:
        """Recompute the uptime column from each service's start time."""
        now = datetime.now(UTC)
        for name, started in self._started.items():
            if name in self.rows:
                self.update_cell(name, "uptime", format_uptime(started, now))

    def _cells(self, service: ServiceStatus) -> tuple[Text | str, ...]:
        return (
            service.name,
            self._state(service.state),
            str(service.port) if service.port else "-",
            service.version or "-",
            format_uptime(service.started_at, datetime.now(UTC)),
            service.detail,
        )

    def _state(self, state: ServiceState) -> Text:
        theme = self.app.current_theme
        colour = {
            ServiceState.HEALTHY: theme.success,
            ServiceState.STARTING: theme.warning,
            ServiceState.UNHEALTHY: theme.error,
            ServiceState.DOWN: theme.error,
        }.get(state)
        return Text(f"{MARKS[state]} {state.value}", style=colour or "dim")


def format_uptime(started: datetime | None, now: datetime) -> str:
    """`45s`, `12m 03s`, `3h 05m`, `2d 04h`; `-` when not running."""
    if started is None:
        return "-"
    seconds = max(0, int((now - started).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
