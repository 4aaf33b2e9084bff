"""A part of a section that owns its keys and its workers (a screen only decides which part
shows): what goes wrong in its workers is said as the section says it, never a traceback."""

from __future__ import annotations

from textual.containers import Vertical
from textual.worker import Worker, WorkerState

from crestfall_tui.errors import CrestfallError
from crestfall_tui.modals.confirm import ConfirmModal


def said(error: BaseException | None) -> tuple[str, str]:
    """A worker's failure in the user's words: (title, message)."""
    if isinstance(error, CrestfallError):
        return error.title, error.message
    return "Unexpected error", f"{type(error).__name__}: {error}"


class Pane(Vertical):
    """A section's part: failures of its workers are notified (Textual does not pass a
    widget's worker events up to its screen)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            title, message = said(event.worker.error)
            self.notify(message, title=title, severity="error", timeout=10, markup=False)

    async def confirm(self, question: str, yes: str = "Yes") -> bool:
        """Ask a yes/no question and wait for the answer; call it from a worker."""
        answer: bool | None = await self.app.push_screen_wait(ConfirmModal(question, yes))
        return answer is True
