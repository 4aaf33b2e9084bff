"""A stack's files are its owner's alone: folders 0700, files 0600 (the data, the logs that
can hold indexed documents, keys and statements). No Textual here."""

from __future__ import annotations

import os
from pathlib import Path

from crestfall_tui.errors import ConfigError


def private_dir(path: Path) -> Path:
    """The folder (and missing parents), made 0700, or made private again where others
    could read or write it (a group's pass-through, 0710, is left: Postgres's user needs
    it when we are root)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    found = path.stat()
    if found.st_mode & 0o067 and found.st_uid == os.geteuid():
        path.chmod(found.st_mode & 0o710)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a small file, created 0600 (an existing one is made 0600 too)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def data_dir_problem(path: Path) -> str | None:
    """Why the stack's data dir could not be made or used, found without writing anything:
    None when it exists as a folder or can be made."""
    if path == Path("/proc") or Path("/proc") in path.parents:
        return f"the stack's data_dir {path} is under /proc, which holds no files"
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"the stack's data_dir {path} cannot be created: {existing} is not a folder"
    if existing != path:
        read_only = os.statvfs(existing).f_flag & os.ST_RDONLY
        if read_only or not os.access(existing, os.W_OK | os.X_OK):
            why = "is on a read-only filesystem" if read_only else "is not writable"
            return f"the stack's data_dir {path} cannot be created: {existing} {why}"
    return None


def check_data_dir(path: Path) -> None:
    """A ConfigError naming the data dir when it cannot be made or used."""
    problem = data_dir_problem(path)
    if problem:
        raise ConfigError(f"{problem}; set data_dir in the config to a writable place")


def data_dir(path: Path) -> Path:
    """The stack's data dir, made private; one that cannot be made is a config error naming
    it (a parent that is a file, a read-only filesystem, /proc)."""
    check_data_dir(path)
    try:
        return private_dir(path)
    except OSError as error:
        raise ConfigError(f"the stack's data_dir {path} cannot be created: "
                          f"{error.strerror or error}; set data_dir in the config to a "
                          "writable place") from None
