"""Following a native service's log files as it writes them, as `tail -F` does: new lines
of every file it logs to, files that appear later (Postgres starts a new one each day), and
files that were truncated or replaced (read again from their start). No Textual here."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

POLL_SECONDS = 0.25
READ_LIMIT = 1 << 20


def follow_files(files: Callable[[], list[Path]], format_line: Callable[[str], str],
                 stop: threading.Event | None = None,
                 poll: float = POLL_SECONDS) -> Iterator[str]:
    """Lines written to `files()` from this call on, until `stop` is set or the iterator is
    closed. Blocking: iterate it in a thread."""
    offsets: dict[Path, tuple[int, int]] = {}  # path -> (inode, offset)
    for path in files():
        try:
            found = path.stat()
        except OSError:
            continue
        offsets[path] = (found.st_ino, found.st_size)
    return _new_lines(files, format_line, stop or threading.Event(), poll, offsets)


def _new_lines(files: Callable[[], list[Path]], format_line: Callable[[str], str],
               stop: threading.Event, poll: float,
               offsets: dict[Path, tuple[int, int]]) -> Iterator[str]:
    pending: dict[Path, bytes] = {}
    while not stop.is_set():
        wrote = False
        for path in files():
            try:
                found = path.stat()
            except OSError:
                continue
            inode, offset = offsets.get(path, (found.st_ino, 0))
            if found.st_ino != inode or found.st_size < offset:
                offset, pending[path] = 0, b""  # replaced or truncated: from its start
            if found.st_size == offset:
                offsets[path] = (found.st_ino, offset)
                continue
            with path.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read(READ_LIMIT)
            offsets[path] = (found.st_ino, offset + len(chunk))
            text = pending.pop(path, b"") + chunk
            complete, _, rest = text.rpartition(b"\n")
            if rest:
                pending[path] = rest  # a line still being written
            for line in complete.decode(errors="replace").split("\n") if complete else ():
                if line.strip():
                    wrote = True
                    yield format_line(line)
        if not wrote:
            stop.wait(poll)

