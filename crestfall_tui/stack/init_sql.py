"""Run the `sql/` init scripts: in order, each once per content, on every `up`.

A script runs again only when its text changed, so `up` on a running stack writes nothing,
and a newer crestfall-tui brings an existing database up to date. The scripts themselves
are idempotent, so a re-run is always safe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

import psycopg
from psycopg import sql

from crestfall_tui.errors import ServiceError
from crestfall_tui.queries import query
from crestfall_tui.resources import init_sql_files
from crestfall_tui.stack.secrets import StackSecrets

SCRAM_ITERATIONS = 4096


@dataclass(frozen=True)
class InitReport:
    """What one pass over the init scripts did."""

    applied: tuple[str, ...]
    missing_extensions: tuple[str, ...]


def apply_init_sql(conninfo: str, secrets: StackSecrets) -> InitReport:
    """Run the scripts that are new or changed, then make sure the login roles have passwords."""
    applied: list[str] = []
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            exists = conn.execute(query("init_scripts_table_exists")).fetchone()
            if not (exists and exists[0]):
                conn.execute(query("init_scripts_table"))
            done = {str(name): str(checksum) for name, checksum
                    in conn.execute(query("init_scripts_applied")).fetchall()}
            for path in init_sql_files():
                text = path.read_text(encoding="utf-8")
                checksum = hashlib.sha256(text.encode()).hexdigest()
                if done.get(path.name) == checksum:
                    continue
                try:
                    with conn.transaction():
                        conn.execute(text.encode())
                        conn.execute(query("init_script_record"),
                                     {"name": path.name, "checksum": checksum})
                except psycopg.Error as error:
                    raise ServiceError("db", f"init script {path.name} failed: "
                                             f"{error.diag.message_primary or error}") from None
                applied.append(path.name)
            _set_login_passwords(conn, secrets)
            rows = conn.execute(query("extensions")).fetchall()
            missing = [name for name, installed_version, _ in rows if installed_version is None]
    except psycopg.OperationalError as error:
        raise ServiceError("db", f"cannot run the init scripts: {error}") from None
    return InitReport(applied=tuple(applied), missing_extensions=tuple(missing))


def _set_login_passwords(conn: psycopg.Connection[tuple[object, ...]],
                         secrets: StackSecrets) -> None:
    """Give the login roles their passwords, once.

    The password is sent as a SCRAM verifier computed here, so its plain text never
    reaches the server or its (audited) statement log.
    """
    wanted = {"authenticator": secrets.authenticator_password,
              "supabase_auth_admin": secrets.postgres_password}
    for role, password in wanted.items():
        row = conn.execute(query("role_password_missing"), {"role": role}).fetchone()
        if row and row[0]:
            conn.execute(sql.SQL("alter role {} with login password {}").format(
                sql.Identifier(role), sql.Literal(scram_verifier(password))))


def scram_verifier(password: str, iterations: int = SCRAM_ITERATIONS) -> str:
    """A SCRAM-SHA-256 verifier in the form Postgres stores (RFC 5802/7677).

    Written here because neither psycopg nor the standard library exports one.
    """
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
