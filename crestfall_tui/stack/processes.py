"""Operating-system plumbing the native runtime needs: ports, pids, users, log tails."""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crestfall_tui.errors import ServiceError
from crestfall_tui.stack.private_files import write_private

SERVICE_USER = "postgres"


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (TIME_WAIT sockets do not count)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def client_host(bind: str) -> str:
    """The address a local client uses to reach a service bound to `bind`."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(bind, bind)


def url_host(bind: str) -> str:
    """The host part of a URL that reaches a service bound to `bind` (IPv6 in brackets)."""
    host = client_host(bind)
    return f"[{host}]" if ":" in host else host


def pid_alive(pid: int) -> bool:
    """True when the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :][:1] != b"Z"


def process_started_at(pid: int) -> datetime | None:
    """When a process started, from /proc (None when it cannot be read)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        ticks = int(stat[stat.rfind(b")") + 2 :].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    boot = time.time() - uptime
    return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), tz=UTC)


def process_cmdline(pid: int) -> list[str]:
    """The command line of a running process (empty when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def processes_working_in(directory: Path) -> list[int]:
    """Live processes whose working directory is `directory` (every Postgres backend's is
    its data dir, so this finds a dead postmaster's orphans)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = (entry / "cwd").readlink()
        except OSError:
            continue
        if cwd == directory and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; True if it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def tail(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of a text file (empty when it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024 * max(1, lines // 100 + 1)))
            data = handle.read()
    except OSError:
        return []
    return data.decode(errors="replace").splitlines()[-lines:]


@dataclass(frozen=True)
class ServiceUser:
    """The OS user a server runs as: ourselves, or `postgres` when we are root."""

    uid: int
    gid: int
    name: str

    @classmethod
    def for_postgres(cls) -> ServiceUser:
        """Postgres refuses to run as root, so root hands it to the `postgres` OS user."""
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
            return cls(entry.pw_uid, entry.pw_gid, entry.pw_name)
        try:
            entry = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise ServiceError(
                "db",
                "running as root, Postgres needs an unprivileged OS user named 'postgres'; "
                "install postgresql-15 (which creates it) or run crestfall-tui as another user",
            ) from None
        return cls(entry.pw_uid, entry.pw_gid, entry.pw_name)

    @property
    def is_me(self) -> bool:
        """True when no user switch is needed."""
        return self.uid == os.geteuid()

    def own(self, *paths: Path) -> None:
        """Hand these paths to this user (a no-op when it is us)."""
        if not self.is_me:
            for path in paths:
                os.chown(path, self.uid, self.gid)

    def let_through(self, directory: Path) -> None:
        """Let this user (alone besides the owner) pass through a private directory of ours
        to what it owns inside: group = its group, mode 0710. A no-op when it is us."""
        if not self.is_me:
            os.chown(directory, -1, self.gid)
            os.chmod(directory, 0o710)

    def run(self, args: Sequence[str], timeout: float,
            given: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command as this user (`given` on its standard input) and capture its
        output."""
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=given,
            stdin=subprocess.DEVNULL if given is None else None,
            user=None if self.is_me else self.uid,
            group=None if self.is_me else self.gid,
            extra_groups=None if self.is_me else [],
        )

    def can_reach(self, path: Path) -> Path | None:
        """The first ancestor of `path` this user cannot search, or None if it can reach it."""
        if self.is_me:
            return None
        for ancestor in reversed(path.parents):
            try:
                mode = ancestor.stat()
            except FileNotFoundError:
                return None
            searchable = (
                (mode.st_uid == self.uid and mode.st_mode & 0o100)
                or (mode.st_gid == self.gid and mode.st_mode & 0o010)
                or mode.st_mode & 0o001
            )
            if not searchable:
                return ancestor
        return None


class PidFileProcess:
    """A server we spawned ourselves and find again through its pid file."""

    def __init__(self, pid_file: Path, executable: str, marker: str) -> None:
        self.pid_file = pid_file
        self.executable = executable
        self.marker = marker
        """An argument only this stack's server has (its data dir): a server of ours whose
        pid file was lost or overwritten is still found by it."""

    def pid(self) -> int | None:
        """The pid of the running server, or None (a stale or reused pid counts as none)."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = 0
        if pid and pid_alive(pid):
            # An empty command line is a child still inside execve (Popen has returned, the
            # kernel has not set up its arguments yet); another program is a reused pid.
            cmd = process_cmdline(pid)
            if not cmd or Path(cmd[0]).name == Path(self.executable).name:
                return pid
        return self._adopt()

    def _adopt(self) -> int | None:
        """Our server, running without a pid file that names it: record it again."""
        name = Path(self.executable).name
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            cmd = process_cmdline(int(entry.name))
            if cmd and Path(cmd[0]).name == name and self.marker in cmd:
                with contextlib.suppress(OSError):
                    write_private(self.pid_file, f"{entry.name}\n")
                return int(entry.name)
        return None

    def spawn(self, args: Sequence[str], log: Path, env: dict[str, str]) -> int:
        """Start the server detached from us (it outlives the studio) and record its pid."""
        log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with os.fdopen(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
                       "ab") as out:
            child = subprocess.Popen(
                [self.executable, *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env},
                start_new_session=True,
                umask=0o077,  # what it writes (data, logs) is its owner's alone
            )
        write_private(self.pid_file, f"{child.pid}\n")
        return child.pid

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then SIGKILL if it has not gone after `timeout` seconds."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not wait_for(lambda: not pid_alive(pid), timeout, 0.1):
                os.kill(pid, signal.SIGKILL)
                wait_for(lambda: not pid_alive(pid), 5.0)
            _reap(pid)
        self.pid_file.unlink(missing_ok=True)


def _reap(pid: int) -> None:
    """Collect the exit status if the server was our own child, so no zombie stays."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
