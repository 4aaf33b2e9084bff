"""Asking whom to run as: the superuser, an API role, or an auth user (the Query screen's
run-as and the Tables screen's view-as ask the same question)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import Screen

from crestfall_tui.modals.prompt import PromptModal
from crestfall_tui.services.run_as import RunAs


def ask_run_as(screen: Screen[Any], verb: str, current: RunAs | None,
               then: Callable[[str], object]) -> None:
    """Prompt (filled with the current choice); `then` gets the answer, "" for the
    superuser. Nothing happens when the user cancels."""

    def answered(answer: str | None) -> None:
        if answer is not None:
            then(answer.split(" (")[0])  # a label as shown: "email (authenticated)"

    screen.app.push_screen(PromptModal(
        f"{verb} (empty: the superuser; anon, authenticated, service_role, or an auth "
        "user's id or email):", current.label if current else "", empty_allowed=True),
        answered)
