"""Per-stack secrets: created with the stack's database, kept in the data dir with mode 0600.

Secrets are made only when the database they open is made. For a database that exists
already they are read, never replaced: new passwords would lock every tool out of it.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from crestfall_tui.errors import CrestfallError
from crestfall_tui.stack.private_files import data_dir as private_data_dir

SECRETS_FILE = "secrets.json"
MASK = "***"
API_KEY_LIFETIME = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class StackSecrets:
    """Every credential one stack uses. Never logged; masked in the UI."""

    postgres_password: str
    authenticator_password: str
    jwt_secret: str
    anon_key: str
    service_role_key: str
    search_api_key: str
    readonly_password: str | None = None
    """The `crestfall_readonly` login's; None in files written before it existed (the next
    `up` adds it)."""

    @classmethod
    def generate(cls) -> StackSecrets:
        """Fresh random secrets, with anon and service_role keys signed by the JWT secret."""
        jwt_secret = secrets.token_urlsafe(48)
        return cls(
            postgres_password=secrets.token_urlsafe(24),
            authenticator_password=secrets.token_urlsafe(24),
            jwt_secret=jwt_secret,
            anon_key=api_key("anon", jwt_secret),
            service_role_key=api_key("service_role", jwt_secret),
            search_api_key=secrets.token_urlsafe(32),
            readonly_password=secrets.token_urlsafe(24),
        )


class SecretsNotCreated(CrestfallError):
    """The stack has never been started: it has neither secrets nor a database yet."""

    def __init__(self, stack: str) -> None:
        super().__init__(f"stack '{stack}' has not been created yet: `crestfall-tui stack up` "
                         "creates it", title="Secrets")


def login_passwords(found: StackSecrets) -> dict[str, str | None]:
    """The database's login roles and the secret each logs in with (the superuser too)."""
    return {"postgres": found.postgres_password,
            "authenticator": found.authenticator_password,
            "supabase_auth_admin": found.postgres_password,
            "crestfall_readonly": found.readonly_password}


def api_key(role: str, jwt_secret: str) -> str:
    """A long-lived HS256 JWT for a PostgREST role, as Supabase's anon/service keys are."""
    import jwt  # lazy: off the first frame

    issued = int(time.time())
    claims = {"role": role, "iss": "crestfall", "iat": issued, "exp": issued + API_KEY_LIFETIME}
    return jwt.encode(claims, jwt_secret, algorithm="HS256")


def load_secrets(data_dir: Path) -> StackSecrets | None:
    """The stack's secrets, or None when the file does not exist; never writes."""
    path = data_dir / SECRETS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CrestfallError(f"{path} cannot be read ({error.strerror}): it holds the stack's "
                             "passwords; give this user access to it", title="Secrets") from None
    return parse_secrets(path, raw)


def parse_secrets(path: Path, raw: bytes) -> StackSecrets:
    """A secrets file's content, checked field by field."""
    damaged = (f"{path} is damaged: restore it from a backup of the data dir (its passwords "
               "open the existing database, so new ones would lock you out)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise CrestfallError(f"{damaged}; it is not JSON", title="Secrets") from None
    if not isinstance(data, dict):
        raise CrestfallError(f"{damaged}; expected a JSON object", title="Secrets")
    values = {}
    for item in fields(StackSecrets):
        value = data.get(item.name)
        required = item.default is not None
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value:
            what = "missing" if value is None else f"a {type(value).__name__}"
            raise CrestfallError(f"{damaged}; {item.name} is {what}, not a string",
                                 title="Secrets")
        values[item.name] = value
    return StackSecrets(**values)


def create_secrets(data_dir: Path, created: StackSecrets | None = None) -> StackSecrets:
    """New secrets for a stack whose database is about to be created, or whose passwords
    were just set anew (mode 0600); never over an existing file."""
    private_data_dir(data_dir)
    created = created or StackSecrets.generate()
    path = data_dir / SECRETS_FILE
    # O_EXCL so two starts at once cannot both write; 0600 from the first byte.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        found = load_secrets(data_dir)
        assert found is not None
        return found
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(created), handle, indent=2)
    return created


def complete_secrets(data_dir: Path, found: StackSecrets) -> StackSecrets:
    """Add the secrets that a file written by an older crestfall-tui lacks (never changing
    one it has), written atomically."""
    if found.readonly_password is not None:
        return found
    completed = replace(found, readonly_password=secrets.token_urlsafe(24))
    path = data_dir / SECRETS_FILE
    part = path.with_name(SECRETS_FILE + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(completed), handle, indent=2)
    os.replace(part, path)
    return completed


def missing_for_existing_database(data_dir: Path, where: str) -> CrestfallError:
    """The error for a database whose secrets file is gone."""
    return CrestfallError(
        f"{data_dir / SECRETS_FILE} is missing, but the stack's database exists ({where}). "
        "crestfall-tui will not make new passwords for it, since they would lock every tool "
        "out. Restore secrets.json from a backup of the data dir; if there is none, "
        "`crestfall-tui stack reset-secrets --yes` (stack down) gives the database's login "
        "roles new passwords and writes a new secrets.json (see the README, 'Lost secrets')",
        title="Secrets")


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier Postgres stores for a password (RFC 5802, RFC 7677), made
    here so that no server is needed and the password itself never reaches one. Written by
    hand because libpq's PQencryptPasswordConn needs a connection, which a database whose
    passwords are lost cannot give. Passwords made by `generate` are ASCII, which SASLprep
    leaves as they are."""
    import base64
    import hashlib
    import hmac

    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    text = [base64.b64encode(part).decode() for part in (salt, stored_key, server_key)]
    return f"SCRAM-SHA-256${iterations}:{text[0]}${text[1]}:{text[2]}"


def mask(secret: str, *, reveal: bool = False) -> str:
    """The secret itself only when asked for; otherwise a fixed mask."""
    return secret if reveal else MASK
