"""PostgreSQL from the system's binaries, in the stack's data dir."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from crestfall_tui.clients.probes import PROBE_TIMEOUT, Probe
from crestfall_tui.errors import ServiceError
from crestfall_tui.stack.native_service import NativeService
from crestfall_tui.stack.private_files import write_private
from crestfall_tui.stack.processes import (
    ServiceUser,
    pid_alive,
    process_cmdline,
    processes_working_in,
    tail,
    wait_for,
)

INSTALL_HINT = "apt-get install postgresql-15 postgresql-15-cron postgresql-15-pgaudit"
PRELOAD_CANDIDATES = ("pg_cron", "pgaudit", "pg_stat_statements")
SUPERUSER = "postgres"
DATABASE = "postgres"

HBA = """\
# Written by crestfall-tui: every connection authenticates with a SCRAM password.
local   all all           scram-sha-256
host    all all 0.0.0.0/0 scram-sha-256
host    all all ::/0      scram-sha-256
"""


@cache
def find_bindir() -> Path | None:
    """The PostgreSQL server binaries: 15 first, then the newest installed, then pg_config's."""
    found: list[tuple[bool, int, Path]] = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin"):
        if (candidate / "postgres").exists() and candidate.parent.name.isdigit():
            version = int(candidate.parent.name)
            found.append((version != 15, -version, candidate))
    if found:
        return min(found)[2]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(out.stdout.strip())
        if (bindir / "postgres").exists():
            return bindir
    return None


class NativePostgres(NativeService):
    """The `db` service: initdb on first start, pg_ctl to start and stop."""

    name = "db"

    @property
    def port(self) -> int:
        return self.stack.ports.db

    @property
    def pgdata(self) -> Path:
        return self.dir / "data"

    @property
    def startup_log(self) -> Path:
        """Where the server writes before its logging collector takes over."""
        return self.dir / "server.log"

    @property
    def log_dir(self) -> Path:
        """jsonlog files, one per day, for the Logs screen."""
        return self.pgdata / "log"

    @property
    def secret(self) -> str:
        return self.secrets.postgres_password

    def missing(self) -> str | None:
        if find_bindir() is None:
            return f"PostgreSQL server binaries not found; install them: {INSTALL_HINT}"
        return None

    def conninfo(self) -> str:
        """libpq connection string for the superuser."""
        from psycopg.conninfo import make_conninfo  # lazy: off the first frame

        return make_conninfo(host=self.host, port=self.port, user=SUPERUSER, dbname=DATABASE,
                             password=self.secrets.postgres_password)

    def url(self) -> str:
        return f"postgresql://{SUPERUSER}:{self.secrets.postgres_password}@{self.url_host}:{self.port}/{DATABASE}"

    def pid(self) -> int | None:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        cmd = process_cmdline(pid)
        if not pid_alive(pid) or not cmd or "postgres" not in Path(cmd[0]).name:
            return None
        return pid

    def probe(self) -> Probe:
        """pg_isready against the TCP port, the health check compose stacks use too.

        Version and start time come from the server binary and the lock file, so probing
        (every few seconds in the studio, and once before its first frame) loads no driver
        and costs the server no backend.
        """
        bindir = self._bindir()
        try:
            done = subprocess.run(
                [str(bindir / "pg_isready"), "-h", self.host, "-p", str(self.port),
                 "-t", str(PROBE_TIMEOUT)],
                capture_output=True, text=True, timeout=PROBE_TIMEOUT + 3, check=False)
        except subprocess.TimeoutExpired:
            return Probe(ok=False, answered=False, detail="pg_isready did not answer")
        detail = done.stdout.strip().rpartition(" - ")[2] or done.stderr.strip()
        if done.returncode != 0:
            # 1: the server rejects connections (starting up, shutting down); 2: no response.
            return Probe(ok=False, answered=done.returncode == 1, detail=detail)
        return Probe(ok=True, answered=True, detail=detail, version=server_version(bindir),
                     started_at=self._started_at())

    def _started_at(self) -> datetime | None:
        """The server's start time: the third line of postmaster.pid (seconds since epoch)."""
        try:
            return datetime.fromtimestamp(
                int((self.pgdata / "postmaster.pid").read_text().splitlines()[2]), tz=UTC)
        except (OSError, ValueError, IndexError):
            return None

    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def start(self) -> None:
        bindir = self._bindir()
        user = ServiceUser.for_postgres()
        user.let_through(self.stack.data_path)
        if not self.initialised():
            self._initdb(bindir, user)
        self._write_settings(bindir, user)
        self._clear_stale_lock()
        args = [str(bindir / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self.startup_log),
                "-w", "-t", str(int(self.start_timeout)), "start"]
        for _attempt in range(3):
            done = user.run(args, timeout=self.start_timeout + 10)
            if done.returncode == 0:
                return
            # After a kill -9 the old server's children can hold shared memory for a moment.
            if "shared memory block" not in "\n".join(tail(self.startup_log, 5)):
                break
        raise ServiceError(self.name, self._failure("pg_ctl start failed", done))

    def _clear_stale_lock(self) -> None:
        """Remove the lock file of a server that died, once none of its processes is left.

        Postgres judges a lock stale with kill(pid, 0), which a not-yet-reaped (zombie)
        postmaster passes; so a killed server would block every restart on hosts whose init
        reaps slowly. Orphaned backends are waited for, so the interlock's purpose holds.
        """
        lock = self.pgdata / "postmaster.pid"
        if not lock.exists() or self.pid() is not None:
            return
        real = self.pgdata.resolve()
        if wait_for(lambda: not processes_working_in(real), 15.0, 0.1):
            lock.unlink(missing_ok=True)

    def stop(self) -> None:
        if self.pid() is None:
            return
        done = ServiceUser.for_postgres().run(
            [str(self._bindir() / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w",
             "-t", "60", "stop"], timeout=70)
        if done.returncode != 0 and self.pid() is not None:
            raise ServiceError(self.name, self._failure("pg_ctl stop failed", done))

    def set_passwords(self, verifiers: dict[str, str]) -> None:
        """Set login roles' passwords (SCRAM verifiers) with the server stopped, through
        single-user mode: the way in when no password that opens the database is known."""
        from psycopg import sql

        # One statement a line: single-user mode ends each at its newline.
        statement = sql.SQL("DO $body$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = {}) "
                            "THEN ALTER ROLE {} PASSWORD {}; END IF; END $body$;")
        lines = [statement.format(sql.Literal(role), sql.Identifier(role),
                                  sql.Literal(verifier)).as_string(None)
                 for role, verifier in verifiers.items()]
        done = ServiceUser.for_postgres().run(
            [str(self._bindir() / "postgres"), "--single", "-D", str(self.pgdata), DATABASE],
            timeout=120, given="\n".join(lines) + "\n")
        refused = [line for line in done.stderr.splitlines() if "ERROR" in line
                   or "FATAL" in line]
        if done.returncode != 0 or refused:
            raise ServiceError(self.name, "\n".join(
                ["setting the passwords in single-user mode failed:", *refused[-5:]]))

    def leftovers(self) -> list[int]:
        """A dead postmaster's orphans: every backend works in the data dir."""
        if self.pid() is not None or not self.pgdata.exists():
            return []
        return processes_working_in(self.pgdata.resolve())

    def log_files(self) -> list[Path]:
        return [self.startup_log, *sorted(self.log_dir.glob("*.json"))]

    def format_log_line(self, line: str) -> str:
        return _format_json_line(line)

    def log_lines(self, lines: int) -> list[str]:
        logs = sorted(self.log_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
        recent = [_format_json_line(line) for line in tail(logs[-1], lines)] if logs else []
        return (tail(self.startup_log, lines) + recent)[-lines:]

    def _bindir(self) -> Path:
        bindir = find_bindir()
        if bindir is None:
            raise ServiceError(self.name, f"PostgreSQL server binaries not found; install them: "
                                          f"{INSTALL_HINT}")
        return bindir

    def _initdb(self, bindir: Path, user: ServiceUser) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        user.own(self.dir)
        blocked = user.can_reach(self.dir)
        if blocked is not None:
            raise ServiceError(
                self.name,
                f"Postgres runs as the OS user '{user.name}', which cannot reach {self.dir}: "
                f"{blocked} is not searchable by it. Set data_dir for this stack to a place it "
                f"can reach (e.g. under /var/lib), or allow it: chmod o+x {blocked}")
        pwfile = self.dir / ".pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.secrets.postgres_password + "\n")
        user.own(pwfile)
        try:
            done = user.run(
                [str(bindir / "initdb"), "-D", str(self.pgdata), "-U", SUPERUSER,
                 f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8",
                 "--locale=C.UTF-8"], timeout=300)
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise ServiceError(self.name, self._failure("initdb failed", done))
        write_private(self.pgdata / "pg_hba.conf", HBA)
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'crestfall.conf'\n")

    def _write_settings(self, bindir: Path, user: ServiceUser) -> None:
        """Rewritten on every start, so a changed port or bind address takes effect."""
        preload = self.preload_libraries(bindir)
        lines: dict[str, str | int] = {
            "listen_addresses": self.stack.bind,
            "port": self.port,
            "unix_socket_directories": "",
            "password_encryption": "scram-sha-256",
            "shared_preload_libraries": ",".join(preload),
            "logging_collector": "on",
            "log_destination": "jsonlog",
            "log_directory": "log",
            "log_filename": "postgresql-%Y-%m-%d.log",
            "log_rotation_age": "1d",
            "log_file_mode": "0600",
        }
        if "pg_cron" in preload:
            lines |= {"cron.database_name": DATABASE, "cron.use_background_workers": "on",
                      "max_worker_processes": 20}
        text = "# Written by crestfall-tui at every start; edit postgresql.conf instead.\n"
        text += "".join(f"{key} = {_conf_value(value)}\n" for key, value in lines.items())
        target = self.pgdata / "crestfall.conf"
        write_private(target, text)
        user.own(target)

    @staticmethod
    def preload_libraries(bindir: Path) -> list[str]:
        """The preload libraries of PRELOAD_CANDIDATES that this installation has."""
        out = subprocess.run([str(bindir / "pg_config"), "--pkglibdir"], capture_output=True,
                             text=True, check=False)
        libdir = Path(out.stdout.strip()) if out.returncode == 0 else bindir.parent / "lib"
        return [name for name in PRELOAD_CANDIDATES if (libdir / f"{name}.so").exists()]

    def _failure(self, what: str, done: subprocess.CompletedProcess[str]) -> str:
        said = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return "\n".join([f"{what} (exit {done.returncode}):", *said])


@cache
def server_version(bindir: Path) -> str | None:
    """The version of the server binaries, e.g. `15.18` (what `SHOW server_version` says)."""
    done = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True,
                          text=True, check=False)
    words = done.stdout.split()
    return words[2] if done.returncode == 0 and len(words) > 2 else None


def _conf_value(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def _format_json_line(line: str) -> str:
    """One jsonlog record as `time SEVERITY: message`, or the line itself if it is not one."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    severity = record.get("error_severity", "LOG")
    return f"{record.get('timestamp', '')} {severity}: {record.get('message', '')}"
