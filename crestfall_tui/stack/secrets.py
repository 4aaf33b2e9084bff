"""Per-stack secrets: generated on first start, kept in the data dir with mode 0600."""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from crestfall_tui.errors import CrestfallError

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
        )


def api_key(role: str, jwt_secret: str) -> str:
    """A long-lived HS256 JWT for a PostgREST role, as Supabase's anon/service keys are."""
    import jwt  # lazy: off the first frame

    issued = int(time.time())
    claims = {"role": role, "iss": "crestfall", "iat": issued, "exp": issued + API_KEY_LIFETIME}
    return jwt.encode(claims, jwt_secret, algorithm="HS256")


def load_or_create_secrets(data_dir: Path) -> StackSecrets:
    """The stack's secrets, created (mode 0600) on first use."""
    path = data_dir / SECRETS_FILE
    if path.exists():
        return read_secrets(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    created = StackSecrets.generate()
    # O_EXCL so two starts at once cannot both write; 0600 from the first byte.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_secrets(path)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(created), handle, indent=2)
    return created


def read_secrets(path: Path) -> StackSecrets:
    """Read a secrets file, with a clear error when it is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return StackSecrets(**data)
    except (OSError, ValueError, TypeError) as error:
        raise CrestfallError(
            f"{path} is damaged or unreadable ({type(error).__name__}); restore it from a "
            "backup, or remove the stack's data dir to start over",
            title="Secrets",
        ) from None


def mask(secret: str, *, reveal: bool = False) -> str:
    """The secret itself only when asked for; otherwise a fixed mask."""
    return secret if reveal else MASK
