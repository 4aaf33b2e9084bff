"""What every studio screen shares: worker failures shown in the user's words."""

from __future__ import annotations

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from crestfall_tui.errors import CrestfallError


class CrestfallScreen(Screen[None]):
    """A section of the studio. Its workers' errors become notifications, never tracebacks."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, CrestfallError):
            self.show_error(error.title, error.message)
        else:
            self.show_error("Unexpected error", f"{type(error).__name__}: {error}")

    def show_error(self, title: str, message: str) -> None:
        """Tell the user what went wrong; screens may also show it in place."""
        self.notify(message, title=title, severity="error", timeout=10, markup=False)
