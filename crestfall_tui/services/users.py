"""Auth users and their sessions, read and written straight in GoTrue's `auth` schema: rows
written as GoTrue writes them (a bcrypt `$2a$` password of cost 10, an `email` identity, ''
token columns, `authenticated` aud and role, a lower-cased email, timestamps), so that a
GoTrue pointed at the database accepts them. No Textual here.

What GoTrue's admin API cannot do is here too: a user's sessions, and a lock-out that bans
the user and ends every session and refresh token in one transaction.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError

PAGE = 50
ZERO_INSTANCE = "00000000-0000-0000-0000-000000000000"
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
"""GoTrue's default JWT lifetime (GOTRUE_JWT_EXP, 3600 s): how long an access token issued
before a lock-out stays valid."""
_DURATION = re.compile(r"(\d+)\s*(s|m|h|d|w)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_USER_COLUMNS = """u.id::text, u.email, u.phone, u.created_at, u.last_sign_in_at,
    u.email_confirmed_at, u.banned_until, u.deleted_at, u.is_anonymous, u.is_sso_user,
    coalesce(u.raw_app_meta_data -> 'providers', '[]'::jsonb)::text"""


def _user_columns() -> Any:
    from psycopg import sql  # lazy: the module loads without the driver

    return sql.SQL(_USER_COLUMNS)


class UserError(CrestfallError):
    """A user that is not there, a duplicate email, a bad duration: one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Users")


@dataclass(frozen=True)
class AuthUser:
    """One row of auth.users, as the studio shows it."""

    id: str
    email: str | None
    phone: str | None
    created_at: datetime
    last_sign_in_at: datetime | None
    email_confirmed_at: datetime | None
    banned_until: datetime | None
    deleted_at: datetime | None
    is_anonymous: bool
    is_sso_user: bool
    providers: tuple[str, ...]

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> AuthUser:
        (user_id, email, phone, created_at, last_sign_in_at, confirmed_at, banned_until,
         deleted_at, anonymous, sso, providers) = row
        return cls(user_id, email, phone, created_at, last_sign_in_at, confirmed_at,
                   banned_until, deleted_at, bool(anonymous), bool(sso),
                   tuple(json.loads(providers)))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "phone": self.phone,
                "created_at": _iso(self.created_at), "last_sign_in_at": _iso(self.last_sign_in_at),
                "email_confirmed_at": _iso(self.email_confirmed_at),
                "banned_until": _iso(self.banned_until), "deleted_at": _iso(self.deleted_at),
                "is_anonymous": self.is_anonymous, "is_sso_user": self.is_sso_user,
                "providers": list(self.providers)}


@dataclass(frozen=True)
class AuthSession:
    """One row of auth.sessions, with its live refresh tokens."""

    id: str
    user_id: str
    created_at: datetime | None
    refreshed_at: datetime | None
    not_after: datetime | None
    aal: str | None
    ip: str | None
    user_agent: str | None
    refresh_tokens: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "user_id": self.user_id, "created_at": _iso(self.created_at),
                "refreshed_at": _iso(self.refreshed_at), "not_after": _iso(self.not_after),
                "aal": self.aal, "ip": self.ip, "user_agent": self.user_agent,
                "refresh_tokens": self.refresh_tokens}


@dataclass(frozen=True)
class Lockout:
    """What a lock-out did, and when it is complete."""

    user: AuthUser
    sessions: int
    refresh_tokens: int
    complete_at: datetime
    """Access tokens issued before it stay valid until then."""

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user.to_json(), "sessions_ended": self.sessions,
                "refresh_tokens_revoked": self.refresh_tokens,
                "complete_at": _iso(self.complete_at)}


FILTERS = {
    "confirmed": "(u.email_confirmed_at is not null or u.phone_confirmed_at is not null)",
    "unconfirmed": "(u.email_confirmed_at is null and u.phone_confirmed_at is null)",
    "anonymous": "u.is_anonymous",
    "banned": "u.banned_until > now()",
    "deleted": "u.deleted_at is not null",
    "sso": "u.is_sso_user",
}
"""What `page` can narrow users to."""


@dataclass(frozen=True)
class Reference:
    """Rows of another table that point at a user, and what deleting the user does to them."""

    table: str
    columns: str
    rows: int
    on_delete: str
    """cascade, set null, set default, restrict or no action."""

    @property
    def blocks(self) -> bool:
        return self.rows > 0 and self.on_delete in ("restrict", "no action")

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "columns": self.columns, "rows": self.rows,
                "on_delete": self.on_delete, "blocks": self.blocks}


@dataclass(frozen=True)
class UserDetail:
    """Everything the detail panel shows of one user."""

    user: AuthUser
    app_metadata: dict[str, Any]
    user_metadata: dict[str, Any]
    identities: list[tuple[str, str, datetime | None]]
    """(provider, provider_id, last sign-in)"""
    sessions: list[AuthSession]
    audit: list[tuple[datetime, str]]
    """The user's latest audit log entries: (when, action)."""
    references: list[Reference]


def parse_duration(text: str) -> timedelta:
    """`30m`, `24h`, `7d`, `1h30m` (s, m, h, d, w)."""
    compact = text.replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise UserError(f"{text!r} is not a duration such as 30m, 24h or 7d")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(compact)))


class Users:
    """The stack's auth users, through one connection per call."""

    def __init__(self, postgres: PostgresClient) -> None:
        self.postgres = postgres

    async def page(self, search: str = "", *, filters: tuple[str, ...] = (),
                   limit: int = PAGE,
                   after: tuple[datetime, str] | None = None) -> list[AuthUser]:
        """Users in order of creation, a page after `after` (created_at, id): all, or those
        whose id is `search` or whose email or phone starts with it, narrowed by `filters`
        (names of FILTERS, or `provider:NAME`)."""
        conditions: list[str] = ["true"]
        params: list[Any] = []
        for name in filters:
            if name.startswith("provider:"):
                conditions.append("u.raw_app_meta_data -> 'providers' ? %s")
                params.append(name.removeprefix("provider:"))
            elif name in FILTERS:
                conditions.append(FILTERS[name])
            else:
                raise UserError(f"no filter {name!r}: one of {', '.join(FILTERS)}, "
                                "or provider:NAME")
        if search:
            if _is_uuid(search):
                conditions.append("u.id = %s::uuid")
                params.append(search)
            else:
                conditions.append("(u.email like %s or u.phone like %s)")
                prefix = _like_prefix(search)
                params += [prefix.lower(), prefix]
        if after is not None:
            conditions.append("(u.created_at, u.id) > (%s, %s::uuid)")
            params += [after[0], after[1]]
        from psycopg import sql

        # The conditions are this module's own fragments; every value is a parameter.
        statement = sql.SQL("select {} from auth.users u where {} "
                            "order by u.created_at, u.id limit %s").format(
            _user_columns(), sql.SQL(" and ").join(sql.SQL(c) for c in conditions))
        async with self._connection() as conn:
            rows = await (await conn.execute(statement, [*params, limit])).fetchall()
        return [AuthUser.from_row(row) for row in rows]

    async def find(self, who: str) -> AuthUser:
        """A user by id or email (any case)."""
        async with self._connection() as conn:
            return await self._find(conn, who)

    async def create(self, email: str, password: str | None, *,
                     confirmed: bool = False) -> AuthUser:
        """A user with an email (and password), as GoTrue's sign-up writes one."""
        email = email.strip().lower()
        if "@" not in email:
            raise UserError(f"{email!r} is not an email address")
        import psycopg

        user_id = str(uuid.uuid4())
        identity = {"sub": user_id, "email": email, "email_verified": confirmed,
                    "phone_verified": False}
        async with self._connection() as conn:
            try:
                async with conn.transaction():
                    await conn.execute(
                        "insert into auth.users (instance_id, id, aud, role, email, "
                        "encrypted_password, email_confirmed_at, raw_app_meta_data, "
                        "raw_user_meta_data, created_at, updated_at, confirmation_token, "
                        "recovery_token, email_change_token_new, email_change, "
                        "email_change_token_current, phone_change, phone_change_token, "
                        "reauthentication_token, is_sso_user, is_anonymous) values "
                        "(%s, %s, 'authenticated', 'authenticated', %s, "
                        "case when %s::text is null then '' else "
                        "crypt(%s::text, gen_salt('bf', 10)) end, "
                        "case when %s then now() end, "
                        "'{\"provider\": \"email\", \"providers\": [\"email\"]}', '{}', now(), "
                        "now(), '', '', '', '', '', '', '', '', false, false)",
                        (ZERO_INSTANCE, user_id, email, password, password, confirmed))
                    await conn.execute(
                        "insert into auth.identities (provider_id, user_id, identity_data, "
                        "provider, last_sign_in_at, created_at, updated_at) values "
                        "(%s, %s, %s, 'email', now(), now(), now())",
                        (user_id, user_id, json.dumps(identity)))
            except psycopg.errors.UniqueViolation:
                raise UserError(f"a user with the email {email} exists already") from None
            return await self._find(conn, user_id)

    async def set_password(self, who: str, password: str) -> AuthUser:
        """A new password, hashed as GoTrue hashes one (bcrypt $2a$, cost 10)."""
        if not password:
            raise UserError("the password is empty")
        return await self._update(
            who, "encrypted_password = crypt(%s::text, gen_salt('bf', 10))", password)

    async def confirm(self, who: str) -> AuthUser:
        """Mark the user's email confirmed (now, unless it was already)."""
        return await self._update(who, "email_confirmed_at = coalesce(email_confirmed_at, "
                                       "now())")

    async def ban(self, who: str, duration: timedelta) -> AuthUser:
        """Refuse the user's sign-ins and refreshes for `duration` (banned_until)."""
        return await self._update(who, "banned_until = now() + %s", duration)

    async def unban(self, who: str) -> AuthUser:
        return await self._update(who, "banned_until = null")

    async def sessions(self, who: str | None = None) -> list[AuthSession]:
        """Every session (or the user's), newest first, with its live refresh tokens."""
        async with self._connection() as conn:
            params: list[Any] = []
            if who is not None:
                params.append((await self._find(conn, who)).id)
            rows = await (await conn.execute(
                "select s.id::text, s.user_id::text, s.created_at, s.refreshed_at, "
                "s.not_after, s.aal::text, host(s.ip), s.user_agent, "
                "(select count(*) from auth.refresh_tokens r where r.session_id = s.id "
                "and not coalesce(r.revoked, false)) from auth.sessions s where "
                + ("s.user_id = %s::uuid" if params else "true")
                + " order by s.created_at desc nulls last", params)).fetchall()
        return [AuthSession(*cast(tuple[Any, ...], row)) for row in rows]

    async def revoke(self, who: str, session: str | None = None) -> int:
        """End one of the user's sessions (or all of them), with their refresh tokens; the
        sessions ended."""
        async with self._connection() as conn, conn.transaction():
            user = await self._find(conn, who)
            cursor = await conn.execute(
                "delete from auth.sessions where user_id = %s::uuid "
                "and (%s::uuid is null or id = %s::uuid)", (user.id, session, session))
            ended = int(cursor.rowcount)
        if session is not None and not ended:
            raise UserError(f"{user.email or user.id} has no session {session}")
        return ended

    async def lockout(self, who: str, duration: timedelta = timedelta(days=36500)) -> Lockout:
        """In one transaction: ban the user, end every session, revoke every refresh token
        and write an audit entry. Access tokens issued before stay valid until they expire."""
        async with self._connection() as conn, conn.transaction():
            user = await self._find(conn, who)
            await conn.execute("update auth.users set banned_until = now() + %s, "
                               "updated_at = now() where id = %s::uuid", (duration, user.id))
            tokens = (await conn.execute("delete from auth.refresh_tokens where user_id = %s",
                                         (user.id,))).rowcount
            sessions = (await conn.execute("delete from auth.sessions where user_id = %s::uuid",
                                           (user.id,))).rowcount
            await conn.execute(
                "insert into auth.audit_log_entries (instance_id, id, payload, created_at, "
                "ip_address) values (%s, gen_random_uuid(), %s, now(), '')",
                (ZERO_INSTANCE, json.dumps({
                    "action": "user_modified", "actor_username": "crestfall-tui",
                    "log_type": "user", "traits": {
                        "user_id": user.id, "user_email": user.email,
                        "lockout": {"sessions_ended": sessions, "refresh_tokens": tokens}}})))
            found = await self._find(conn, user.id)
        complete = datetime.now(found.created_at.tzinfo) + ACCESS_TOKEN_LIFETIME
        return Lockout(found, sessions, tokens, complete)

    async def delete(self, who: str, *, soft: bool = False) -> AuthUser:
        """Delete a user: `soft` as GoTrue's soft delete does (obfuscated email and phone, no
        password or tokens, deleted_at set, identities and sessions gone); else the row,
        and with it what cascades."""
        import psycopg

        async with self._connection() as conn:
            try:
                async with conn.transaction():
                    user = await self._find(conn, who)
                    if soft:
                        await conn.execute(SOFT_DELETE.encode(), (user.id,))
                        await conn.execute("delete from auth.identities where user_id = %s",
                                           (user.id,))
                        await conn.execute("delete from auth.sessions where user_id = %s",
                                           (user.id,))
                    else:
                        await conn.execute("delete from auth.users where id = %s::uuid",
                                           (user.id,))
            except psycopg.errors.ForeignKeyViolation as error:
                raise UserError(f"{user.email or user.id} cannot be deleted: "
                                f"{error.diag.message_detail or error}") from None
        return user

    async def detail(self, who: str) -> UserDetail:
        """The user with metadata, identities, sessions, latest audit entries and the rows
        that point at them."""
        async with self._connection() as conn:
            user = await self._find(conn, who)
            metadata = await (await conn.execute(
                "select coalesce(raw_app_meta_data, '{}')::text, "
                "coalesce(raw_user_meta_data, '{}')::text from auth.users where id = %s::uuid",
                (user.id,))).fetchone()
            identities = await (await conn.execute(
                "select provider, provider_id, last_sign_in_at from auth.identities "
                "where user_id = %s::uuid order by created_at", (user.id,))).fetchall()
            audit = await (await conn.execute(
                "select created_at, coalesce(payload->>'action', '') from "
                "auth.audit_log_entries where payload->'traits'->>'user_id' = %s "
                "or payload->>'actor_id' = %s order by created_at desc limit 20",
                (user.id, user.id))).fetchall()
        app, own = (json.loads(str(text)) for text in (metadata or ("{}", "{}")))
        return UserDetail(user, app, own,
                          [(str(p), str(i), cast(datetime | None, at))
                           for p, i, at in identities],
                          await self.sessions(user.id),
                          [(cast(datetime, at), str(action)) for at, action in audit],
                          await self.references(user.id))

    async def references(self, who: str) -> list[Reference]:
        """A dry run of deleting the user: each foreign key to auth.users (GoTrue's own
        tables and the application's), the rows that point at this user, and whether the
        delete would cascade to them, empty them, or be blocked by them."""
        from psycopg import sql

        actions = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null",
                   "d": "set default"}
        async with self._connection() as conn:
            user = await self._find(conn, who)
            keys = await (await conn.execute(
                "select c.conrelid::regclass::text, n.nspname, r.relname, c.confdeltype, "
                "array_agg(a.attname::text order by k.ord) "
                "from pg_constraint c join pg_class r on r.oid = c.conrelid "
                "join pg_namespace n on n.oid = r.relnamespace, "
                "unnest(c.conkey) with ordinality k(attnum, ord) "
                "join pg_attribute a on a.attnum = k.attnum "
                "where c.contype = 'f' and c.confrelid = 'auth.users'::regclass "
                "and a.attrelid = c.conrelid "
                "group by c.oid, c.conrelid, n.nspname, r.relname, c.confdeltype "
                "order by 1")).fetchall()
            found = []
            for table, schema, name, action, columns in cast(list[tuple[Any, ...]], keys):
                names = [str(column) for column in columns]
                condition = sql.SQL(" and ").join(
                    [sql.SQL("{} = %s").format(sql.Identifier(column)) for column in names])
                counted = await (await conn.execute(sql.SQL(
                    "select count(*) from {} where {}").format(
                        sql.Identifier(str(schema), str(name)), condition),
                    [user.id] * len(names))).fetchone()
                found.append(Reference(str(table), ", ".join(names),
                                       int(cast(int, counted[0])) if counted else 0,
                                       actions.get(str(action), str(action))))
        return found

    def token(self, user: AuthUser, jwt_secret: str, ttl: timedelta) -> str:
        """An access token for the user, as GoTrue would sign it (HS256, role authenticated),
        valid for `ttl`."""
        import jwt

        now = int(time.time())
        claims = {"sub": user.id, "email": user.email or "", "role": "authenticated",
                  "aud": "authenticated", "iat": now, "exp": now + int(ttl.total_seconds()),
                  "is_anonymous": user.is_anonymous, "iss": "crestfall-tui"}
        return jwt.encode(claims, jwt_secret, algorithm="HS256")

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A connection for one call. A failure Postgres reports (a read-only login's write
        refused, a constraint) becomes one line; the cases a caller words itself (a
        duplicate email, a delete that rows block) are caught inside, before this."""
        import psycopg

        try:
            async with await self.postgres.open() as conn:
                yield conn
        except psycopg.Error as error:
            primary = getattr(error.diag, "message_primary", None)
            raise UserError(primary or str(error).strip().splitlines()[0]) from None

    async def _find(self, conn: Any, who: str) -> AuthUser:
        from psycopg import sql

        who = who.strip()
        where = "u.id = %s::uuid" if _is_uuid(who) else "lower(u.email) = lower(%s)"
        row = await (await conn.execute(
            sql.SQL("select {} from auth.users u where {}").format(_user_columns(),
                                                                   sql.SQL(where)),
            (who,))).fetchone()
        if row is None:
            raise UserError(f"no user {who!r}")
        return AuthUser.from_row(row)

    async def _update(self, who: str, assignment: str, *params: Any) -> AuthUser:
        """Set columns of the user's row: `assignment` is this module's own SQL, its values
        parameters."""
        from psycopg import sql

        async with self._connection() as conn, conn.transaction():
            user = await self._find(conn, who)
            await conn.execute(sql.SQL("update auth.users set {}, updated_at = now() "
                                       "where id = %s::uuid").format(sql.SQL(assignment)),
                               (*params, user.id))
            return await self._find(conn, user.id)


# GoTrue's obfuscation: base64url(sha256(id || value)), no padding.
_OBFUSCATED = ("case when {0} is null then null else rtrim(translate(encode(sha256(convert_to("
               "id::text || {0}, 'UTF8')), 'base64'), '+/', '-_'), '=') end")


SOFT_DELETE = f"""update auth.users set email = {_OBFUSCATED.format("email")},
    phone = left({_OBFUSCATED.format("phone")}, 15),
    email_change = {_OBFUSCATED.format("nullif(email_change, '')")},
    encrypted_password = null, confirmation_token = '', recovery_token = '',
    email_change_token_current = '', email_change_token_new = '', phone_change_token = '',
    raw_user_meta_data = '{{}}', deleted_at = now(), updated_at = now()
  where id = %s::uuid"""
"""GoTrue's soft delete (models.User.SoftDeleteUser): nothing that identifies the person
stays, the row does."""


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text.strip())
    except ValueError:
        return False
    return True


def _like_prefix(text: str) -> str:
    """A LIKE pattern for values starting with `text` (its own % and _ taken literally)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
