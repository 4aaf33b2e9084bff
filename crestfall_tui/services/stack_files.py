"""What crestfall-tui keeps in a stack's data dir besides the database itself: secrets, the
action log, the query history and the like. Deleting a docker stack's volumes leaves them;
`down --volumes --purge` removes them too, so that deleting a stack leaves no data behind."""

from __future__ import annotations

import contextlib
from pathlib import Path

from crestfall_tui.services.action_log import ACTION_LOG_FILE
from crestfall_tui.services.databases import CHOSEN_FILE
from crestfall_tui.services.query_history import HISTORY_FILE
from crestfall_tui.services.snippets import SNIPPETS_FILE
from crestfall_tui.stack.docker import STATE_FILE
from crestfall_tui.stack.runtime import LOCK_FILE, RUNTIME_FILE
from crestfall_tui.stack.secrets import SECRETS_FILE

STUDIO_FILES = {
    SECRETS_FILE: "its passwords and keys",
    ACTION_LOG_FILE: "the action log (it holds row values of the database)",
    HISTORY_FILE: "the query history",
    SNIPPETS_FILE: "the saved snippets",
    CHOSEN_FILE: "the database last opened",
    STATE_FILE: "the services last excluded",
    RUNTIME_FILE: "the runtime it was started with",
    LOCK_FILE: "its lock",
}
"""The files of a stack's data dir that crestfall-tui writes, and what each holds."""


def leftovers(data_dir: Path) -> list[str]:
    """The files that hold something of the stack (the lock and small records aside)."""
    return [f"{name} ({STUDIO_FILES[name]})" for name in
            (SECRETS_FILE, ACTION_LOG_FILE, HISTORY_FILE, SNIPPETS_FILE)
            if (data_dir / name).exists()]


def purge(data_dir: Path) -> tuple[list[str], list[str]]:
    """Delete crestfall-tui's files from a stack's data dir, and the dir once empty; the
    names removed, and those left alone (nothing crestfall-tui wrote is guessed at)."""
    removed = []
    for name in STUDIO_FILES:
        with contextlib.suppress(FileNotFoundError):
            (data_dir / name).unlink()
            removed.append(name)
    try:
        left = sorted(entry.name for entry in data_dir.iterdir())
    except FileNotFoundError:
        return removed, []
    if not left:
        data_dir.rmdir()
    return removed, left
