"""Access tokens for the stack's auth users: minted as GoTrue signs them (HS256 with the
stack's JWT secret, role and audience `authenticated`), and any pasted token decoded and
checked (signature, expiry, claims). No Textual here."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from crestfall_tui.errors import CrestfallError

EXPECTED_CLAIMS = ("sub", "role", "exp")
"""What PostgREST and `auth.uid()` read from a token."""


def mint_token(user_id: str, email: str | None, jwt_secret: str, ttl: timedelta, *,
               anonymous: bool = False) -> str:
    """An access token for the user, valid for `ttl`."""
    import jwt

    now = int(time.time())
    claims = {"sub": user_id, "email": email or "", "role": "authenticated",
              "aud": "authenticated", "iat": now, "exp": now + int(ttl.total_seconds()),
              "is_anonymous": anonymous, "iss": "crestfall-tui"}
    return jwt.encode(claims, jwt_secret, algorithm="HS256")


@dataclass(frozen=True)
class TokenCheck:
    """What a token says, and whether the stack would accept it."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signature: str
    """valid, invalid (not signed with the stack's secret), or unchecked (no secret known,
    or an algorithm other than HS256)."""
    expires_at: datetime | None
    problems: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.signature == "valid" and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"header": self.header, "claims": self.claims, "signature": self.signature,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "accepted": self.accepted, "problems": self.problems}


def check_token(token: str, jwt_secret: str | None, *,
                now: datetime | None = None) -> TokenCheck:
    """Decode `token` (header and claims, whether or not it verifies) and check it against
    the stack's secret: its signature, expiry and not-before, and the claims PostgREST
    needs. A string that is no JWT at all is an error."""
    import jwt

    token = "".join(token.split())
    if token.lower().startswith("bearer"):
        token = token[6:]
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise CrestfallError(f"not a JWT: {error}", title="Token") from None
    now = now or datetime.now(UTC)
    problems = []
    expires_at = None
    if isinstance(claims.get("exp"), int | float):
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        if expires_at <= now:
            problems.append(f"expired {_ago(now - expires_at)} ago")
    if isinstance(claims.get("nbf"), int | float) and \
            datetime.fromtimestamp(claims["nbf"], UTC) > now:
        problems.append("not valid yet (nbf)")
    problems += [f"no {name!r} claim" for name in EXPECTED_CLAIMS if name not in claims]
    if header.get("alg") != "HS256" or jwt_secret is None:
        signature = "unchecked"
        problems.append(f"signed with {header.get('alg')!r}, not HS256" if jwt_secret
                        else "the stack's JWT secret is not known here")
    else:
        try:
            jwt.decode(token, jwt_secret, algorithms=["HS256"],
                       options={"verify_exp": False, "verify_aud": False,
                                "verify_nbf": False})
            signature = "valid"
        except jwt.InvalidSignatureError:
            signature = "invalid"
            problems.append("not signed with this stack's JWT secret")
    return TokenCheck(header, claims, signature, expires_at, problems)


def describe(check: TokenCheck) -> str:
    """The check for people: the verdict, what is wrong, the claims."""
    verdict = "accepted by this stack" if check.accepted else "REFUSED by this stack"
    lines = [f"{verdict}; signature {check.signature}"]
    lines += [f"  - {problem}" for problem in check.problems]
    if check.expires_at:
        lines.append(f"expires {check.expires_at:%Y-%m-%d %H:%M:%S} UTC")
    lines.append(json.dumps(check.claims, indent=2, sort_keys=True, ensure_ascii=False))
    return "\n".join(lines)


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
