"""Run the `sql/` init scripts: in order, each once per content, on every `up` (no image
entrypoint runs them: on both runtimes, this is the one place they run).

A script runs again only when its text changed, so `up` on a running stack writes nothing,
and a newer crestfall-tui brings an existing database up to date. The scripts themselves
are idempotent, so a re-run is always safe.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from crestfall_tui.errors import ServiceError
from crestfall_tui.queries import query
from crestfall_tui.resources import init_sql_files
from crestfall_tui.stack.gotrue import apply_gotrue_migrations
from crestfall_tui.stack.model import Progress, ProgressCallback, ServiceState
from crestfall_tui.stack.secrets import StackSecrets, login_passwords

AUTH_SCRIPT = "20_auth.sql"
"""GoTrue's migrations run right after it (and before the scripts that use the auth tables)."""


@dataclass(frozen=True)
class InitReport:
    """What one pass over the init scripts did."""

    applied: tuple[str, ...]
    missing_extensions: tuple[str, ...]
    notes: tuple[str, ...] = ()
    """What the scripts reported on the way (an extension that could not be created)."""


def apply_init_sql(conninfo: str, secrets: StackSecrets) -> InitReport:
    """Run the scripts that are new or changed, then make sure the login roles have passwords."""
    applied: list[str] = []
    notes: list[str] = []
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.add_notice_handler(lambda diag: notes.append(diag.message_primary or "")
                                    if (diag.message_primary or "").startswith("extension ")
                                    else None)
            exists = conn.execute(query("init_scripts_table_exists")).fetchone()
            if not (exists and exists[0]):
                conn.execute(query("init_scripts_table"))
            done = {str(name): str(checksum) for name, checksum
                    in conn.execute(query("init_scripts_applied")).fetchall()}
            # pgaudit would log each statement of a script with the whole script's text
            # (thousands of lines on a first start): this session's own work is not audited.
            conn.execute("select set_config('pgaudit.log', 'none', false)")
            for path in init_sql_files():
                if _run_script(conn, path, done):
                    applied.append(path.name)
                if path.name == AUTH_SCRIPT:  # GoTrue's own, after the auth schema's setup
                    ran = _gotrue_migrations(conn)
                    if ran:
                        applied.append(f"GoTrue's migrations ({len(ran)}, up to {ran[-1]})")
            _set_login_passwords(conn, secrets)
            rows = conn.execute(query("extensions")).fetchall()
            missing = [name for name, installed_version, _ in rows if installed_version is None]
    except psycopg.OperationalError as error:
        raise ServiceError("db", f"cannot run the init scripts: {error}") from None
    return InitReport(applied=tuple(applied), missing_extensions=tuple(missing),
                      notes=tuple(notes))


def _run_script(conn: psycopg.Connection[tuple[object, ...]], path: Path,
                done: dict[str, str]) -> bool:
    """Run one init script in a transaction, unless it ran before with the same text."""
    text = path.read_text(encoding="utf-8")
    checksum = hashlib.sha256(text.encode()).hexdigest()
    if done.get(path.name) == checksum:
        return False
    try:
        with conn.transaction():
            conn.execute(text.encode())
            conn.execute(query("init_script_record"), {"name": path.name, "checksum": checksum})
    except psycopg.Error as error:
        raise ServiceError("db", f"init script {path.name} failed: "
                                 f"{error.diag.message_primary or error}") from None
    return True


def _gotrue_migrations(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    try:
        return apply_gotrue_migrations(conn)
    except psycopg.Error as error:
        raise ServiceError("db", f"GoTrue's migration failed: "
                                 f"{error.diag.message_primary or error}") from None


def initialise_db(conninfo: str, secrets: StackSecrets, progress: ProgressCallback) -> None:
    """Bring the database up to date after a start, and say what was done."""
    report = apply_init_sql(conninfo, secrets)
    if report.applied:
        progress(Progress("db", ServiceState.HEALTHY,
                          f"ran init scripts: {', '.join(report.applied)}"))
    for note in report.notes:
        progress(Progress("db", ServiceState.HEALTHY, note))
    if report.missing_extensions:
        progress(Progress("db", ServiceState.HEALTHY, "extensions not available here: "
                          f"{', '.join(report.missing_extensions)}"))


def _set_login_passwords(conn: psycopg.Connection[tuple[object, ...]],
                         secrets: StackSecrets) -> None:
    """Give the login roles their passwords, once.

    The password is sent as a SCRAM verifier computed by libpq on this side, so its plain
    text never reaches the server or its (audited) statement log.
    """
    for role, password in login_passwords(secrets).items():
        if password is None or role == "postgres":  # the superuser's is set by initdb
            continue
        row = conn.execute(query("role_password_missing"), {"role": role}).fetchone()
        if row and row[0]:
            # libpq's PQencryptPasswordConn: the SCRAM verifier is computed client-side.
            verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(),
                                                    b"scram-sha-256")
            conn.execute(sql.SQL("alter role {} with login password {}").format(
                sql.Identifier(role), sql.Literal(verifier.decode())))
