"""Auth users and their sessions, read and written straight in GoTrue's `auth` schema: rows
written as GoTrue writes them (a bcrypt `$2a$` password of cost 10, an `email` identity, ''
token columns, `authenticated` aud and role, a lower-cased email, timestamps), so that a
GoTrue pointed at the database accepts them. No Textual here.

What GoTrue's admin API cannot do is here too: a user's sessions, and a lock-out that bans
the user and ends every session and refresh token in one transaction.
"""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.calls import Calls, all_of

PAGE = 50
ZERO_INSTANCE = "00000000-0000-0000-0000-000000000000"
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
"""GoTrue's default JWT lifetime (GOTRUE_JWT_EXP, 3600 s): how long an access token issued
before a lock-out stays valid."""
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


@dataclass(slots=True)
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
    place: str = field(default="", compare=False)
    """Where the user stands in the order a page listed them (the sort key, as text): the
    next page starts after it."""

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> AuthUser:
        (user_id, email, phone, created_at, last_sign_in_at, confirmed_at, banned_until,
         deleted_at, anonymous, sso, providers, *place) = row
        return cls(user_id, email, phone, created_at, last_sign_in_at, confirmed_at,
                   banned_until, deleted_at, bool(anonymous), bool(sso),
                   _providers(providers), str(place[0]) if place else "")

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
    user: str = ""
    """The user's email or phone."""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "user_id": self.user_id, "user": self.user,
                "created_at": _iso(self.created_at),
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

SORTS = {
    "created": ("u.created_at", "timestamptz", ">", "created_at"),
    "last_sign_in": ("coalesce(u.last_sign_in_at, to_timestamp('-infinity'::float8))",
                     "timestamptz", "<", None),
    "email": ("(coalesce(lower(u.email), '') collate \"C\")", "text", ">", None),
    "phone": ("(coalesce(u.phone, '') collate \"C\")", "text", ">", None),
}
"""How `page` can order users: the key (each has an index of the same expression,
22_auth_indexes.sql), its type, the direction (`>` oldest or A first, `<` newest first:
the latest sign-ins, then those who never signed in), and the user's field that holds the
key, where one does. Otherwise the page reads the key as text too (`place`): converting
every row's timestamptz to text was a third of the server's time for a page."""


@dataclass(frozen=True)
class UserCount:
    """How many users a list holds: the planner's estimate (instant at any size), or
    counted."""

    rows: int
    exact: bool

    def __str__(self) -> str:
        return f"{self.rows:,}" if self.exact else f"~{self.rows:,}"


@dataclass(frozen=True)
class Reference:
    """Rows of another table that point at a user, and what deleting the user does to them."""

    table: str
    columns: str
    rows: int
    on_delete: str
    """cascade, set null, set default, restrict or no action."""
    schema: str = ""
    name: str = ""
    """The table's schema and name, apart."""

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
    factors: list[tuple[str, str, str, datetime]]
    """MFA factors, where the database has GoTrue's table: (type, status, name, created)."""
    audit: list[tuple[datetime, str]]
    """The user's latest audit log entries: (when, action)."""
    references: list[Reference]


METADATA_COLUMNS = {"app": "raw_app_meta_data", "user": "raw_user_meta_data"}
"""The user's metadata: `app` (providers, roles; only the service sets it) and `user` (what
the user may set themselves)."""


@dataclass(frozen=True)
class MetadataChange:
    """One metadata object of a user, before and after."""

    user: AuthUser
    which: str
    before: dict[str, Any]
    after: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user.id, "metadata": self.which, "before": self.before,
                "after": self.after}


def metadata_diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """A unified diff of two metadata objects, keys sorted, one per line."""
    import difflib

    def lines(value: dict[str, Any]) -> list[str]:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()

    return list(difflib.unified_diff(lines(before), lines(after), "before", "after",
                                     lineterm="", n=2))


@dataclass(frozen=True)
class Anomalies:
    """Sessions worth a look: users holding too many, and sessions left unrefreshed."""

    max_sessions: int
    stale: timedelta
    crowded: list[tuple[str, str, int]]
    """(user id, email or phone, sessions) of users above `max_sessions`."""
    stale_sessions: list[tuple[str, str, str, datetime]]
    """(session id, user id, email or phone, last refreshed) of sessions older than
    `stale`."""

    def to_json(self) -> dict[str, Any]:
        return {"max_sessions": self.max_sessions,
                "stale_after_s": int(self.stale.total_seconds()),
                "users_with_many_sessions": [{"user_id": u, "user": e, "sessions": n}
                                             for u, e, n in self.crowded],
                "stale_sessions": [{"session": i, "user_id": u, "user": e,
                                    "last_refreshed": _iso(at)}
                                   for i, u, e, at in self.stale_sessions]}


CATALOG_SECONDS = 30.0
"""How long what the detail reads of the catalog is kept (a new table pointing at
auth.users shows within this long)."""


@dataclass(frozen=True)
class _ForeignKey:
    reference: Reference
    count: bytes
    """The statement counting a user's rows, one parameter per column."""
    width: int


@dataclass(frozen=True)
class _AuthCatalog:
    references: list[_ForeignKey]
    has_factors: bool


class Users:
    """The stack's auth users, through one connection per call."""

    def __init__(self, postgres: PostgresClient) -> None:
        self.postgres = postgres
        self.calls = Calls(postgres, UserError)
        self._catalog_read: tuple[float, _AuthCatalog] | None = None

    async def page(self, search: str = "", *, filters: tuple[str, ...] = (),
                   sort: str = "created", contains: bool = False, limit: int = PAGE,
                   after: AuthUser | None = None, last: bool = False) -> list[AuthUser]:
        """A page of users in `sort` order (SORTS), after the user `after` of the page
        before (or, `last`, the last page): all, or those whose id is `search` or whose
        email or phone starts with it (contains it, with `contains`: that reads every
        row), narrowed by `filters` (names of FILTERS, or `provider:NAME`). Every page is
        read by index (keyset paging), the last one too (the index read backwards)."""
        statement, params = self.page_query(search, filters=filters, sort=sort,
                                            contains=contains, limit=limit, after=after,
                                            last=last)
        async with self._connection() as conn:
            rows = await (await conn.execute(statement, params)).fetchall()
        users = [AuthUser.from_row(row) for row in rows]
        return users[::-1] if last else users

    def page_query(self, search: str = "", *, filters: tuple[str, ...] = (),
                   sort: str = "created", contains: bool = False, limit: int = PAGE,
                   after: AuthUser | None = None,
                   last: bool = False) -> tuple[bytes, list[Any]]:
        """The statement `page` runs, and its parameters (to EXPLAIN it, say)."""
        if sort not in SORTS:
            raise UserError(f"no sort {sort!r}: one of {', '.join(SORTS)}")
        key, kind, direction, field_of_key = SORTS[sort]
        if last:  # the same order read from its end
            direction = "<" if direction == ">" else ">"
        conditions, params = self._conditions(search, filters, contains)
        if after is not None:
            conditions.append(f"({key}, u.id) {direction} (%s::{kind}, %s::uuid)")
            params += [getattr(after, field_of_key) if field_of_key else after.place,
                       after.id]
        statement = _page_statement(key, tuple(conditions), "" if direction == ">" else
                                    " desc", field_of_key is None, int(limit))
        return statement, params

    async def count(self, search: str = "", *, filters: tuple[str, ...] = (),
                    contains: bool = False, exact: bool = False) -> UserCount:
        """How many users `page` would list in all: the planner's estimate, which costs
        nothing at any size (what Supabase Studio had to switch to above 50,000 users), or
        with `exact` counted (which reads them)."""
        from psycopg import sql

        conditions, params = self._conditions(search, filters, contains)
        where = all_of(conditions)
        async with self._connection() as conn:  # params: the conditions' `%%` read as `%`
            if exact:
                row = await (await conn.execute(
                    sql.SQL("select count(*) from auth.users u where {}").format(where),
                    params)).fetchone()
                return UserCount(int(row[0]) if row else 0, True)
            row = await (await conn.execute(
                sql.SQL("explain (format json) select from auth.users u where {}").format(
                    where), params)).fetchone()
        plan = row[0] if row else [{}]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return UserCount(int(plan[0].get("Plan", {}).get("Plan Rows", 0)), False)

    @staticmethod
    def _conditions(search: str, filters: tuple[str, ...],
                    contains: bool) -> tuple[list[str], list[Any]]:
        """The WHERE of a list: this module's own fragments, and their parameters."""
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
        search = search.strip()
        if search and _is_uuid(search):
            conditions.append("u.id = %s::uuid")
            params.append(search)
        elif search and contains:
            pattern = _literal("%" + _like_prefix(search))
            conditions.append(f"(u.email ilike {pattern} or u.phone like {pattern})")
        elif search:
            # The same expressions as the indexes of 22_auth_indexes.sql: a range scan. The
            # pattern is a literal (quoted by psycopg), not a parameter: a LIKE on a
            # parameter is planned again at every run, which took half a page's time.
            prefix = _like_prefix(search)
            conditions.append(f"({SORTS['email'][0]} like {_literal(prefix.lower())} or "
                              f"{SORTS['phone'][0]} like {_literal(prefix)})")
        return conditions, params

    async def find(self, who: str) -> AuthUser:
        """A user by id or email (any case)."""
        async with self._connection() as conn:
            return await self._find(conn, who)

    async def create(self, email: str | None, password: str | None, *,
                     confirmed: bool = False, phone: str | None = None) -> AuthUser:
        """A user with an email or a phone (and a password), as GoTrue's sign-up writes one:
        an `email` or `phone` identity, the provider in the app metadata, a phone kept as
        digits without its `+`."""
        email = email.strip().lower() if email else None
        phone = re.sub(r"[\s()+-]", "", phone) if phone else None
        if email is None and phone is None:
            raise UserError("a user needs an email or a phone")
        if email is not None and "@" not in email:
            raise UserError(f"{email!r} is not an email address")
        if phone is not None and not phone.isdigit():
            raise UserError(f"{phone!r} is not a phone number (digits, as +15551234567)")
        import psycopg

        user_id = str(uuid.uuid4())
        provider = "email" if email else "phone"
        identity = {"sub": user_id, "email_verified": bool(email and confirmed),
                    "phone_verified": bool(phone and confirmed)}
        identity |= {"email": email} if email else {"phone": phone}
        app_metadata = {"provider": provider, "providers": [provider]}
        async with self._connection() as conn:
            try:
                async with conn.transaction():
                    await conn.execute(
                        "insert into auth.users (instance_id, id, aud, role, email, phone, "
                        "encrypted_password, email_confirmed_at, phone_confirmed_at, "
                        "raw_app_meta_data, raw_user_meta_data, created_at, updated_at, "
                        "confirmation_token, recovery_token, email_change_token_new, "
                        "email_change, email_change_token_current, phone_change, "
                        "phone_change_token, reauthentication_token, is_sso_user, "
                        "is_anonymous) values "
                        "(%s, %s, 'authenticated', 'authenticated', %s, %s, "
                        "case when %s::text is null then '' else "
                        "crypt(%s::text, gen_salt('bf', 10)) end, "
                        "case when %s and %s::text is not null then now() end, "
                        "case when %s and %s::text is not null then now() end, "
                        "%s, '{}', now(), now(), '', '', '', '', '', '', '', '', false, false)",
                        (ZERO_INSTANCE, user_id, email, phone, password, password, confirmed,
                         email, confirmed, phone, json.dumps(app_metadata)))
                    await conn.execute(
                        "insert into auth.identities (provider_id, user_id, identity_data, "
                        "provider, last_sign_in_at, created_at, updated_at) values "
                        "(%s, %s, %s, %s, now(), now(), now())",
                        (user_id, user_id, json.dumps(identity), provider))
            except psycopg.errors.UniqueViolation:
                raise UserError(f"a user with the {provider} {email or phone} exists "
                                "already") from None
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

    async def sessions(self, who: str | None = None, *, limit: int | None = None,
                       before: AuthSession | None = None) -> list[AuthSession]:
        """Every session (or the user's), newest first, with its live refresh tokens: all
        of them, or `limit` after the session `before` (keyset paged by index)."""
        async with self._connection() as conn:
            user_id = None if who is None else (await self._find(conn, who)).id
            return await self._sessions(conn, user_id, limit=limit, before=before)

    async def _sessions(self, conn: Any, user_id: str | None, *, limit: int | None = None,
                        before: AuthSession | None = None) -> list[AuthSession]:
        conditions: list[str] = ["true"]
        params: list[Any] = []
        if user_id is not None:
            conditions.append("s.user_id = %s::uuid")
            params.append(user_id)
        if before is not None:
            conditions.append("(s.created_at, s.id) < (%s, %s::uuid)")
            params += [before.created_at, before.id]
        from psycopg import sql

        # This module's own fragments; every value a parameter.
        rows = await (await conn.execute(sql.SQL(
            "select s.id::text, s.user_id::text, s.created_at, s.refreshed_at, "
            "s.not_after, s.aal::text, host(s.ip), s.user_agent, "
            "(select count(*) from auth.refresh_tokens r where r.session_id = s.id "
            "and not coalesce(r.revoked, false)), coalesce(u.email, u.phone, '') "
            "from auth.sessions s join auth.users u on u.id = s.user_id where {} "
            "order by s.created_at desc nulls last, s.id desc {}").format(
                all_of(conditions),
                sql.SQL("limit %s" if limit else "")),
            [*params, limit] if limit else params)).fetchall()
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
        """The user with metadata, identities, sessions, MFA factors, latest audit entries
        and the rows that point at them, read on one connection."""
        async with self._connection() as conn:
            user = await self._find(conn, who)
            metadata = await (await conn.execute(
                "select coalesce(raw_app_meta_data, '{}')::text, "
                "coalesce(raw_user_meta_data, '{}')::text from auth.users where id = %s::uuid",
                (user.id,))).fetchone()
            identities = await (await conn.execute(
                "select provider, provider_id, last_sign_in_at from auth.identities "
                "where user_id = %s::uuid order by created_at", (user.id,))).fetchall()
            factors = await (await conn.execute(
                "select factor_type::text, status::text, coalesce(friendly_name, ''), "
                "created_at from auth.mfa_factors where user_id = %s::uuid "
                "order by created_at", (user.id,))).fetchall() \
                if (await self._catalog(conn)).has_factors else []
            audit = await (await conn.execute(
                "select created_at, coalesce(payload->>'action', '') from "
                "auth.audit_log_entries where payload->'traits'->>'user_id' = %s "
                "or payload->>'actor_id' = %s order by created_at desc limit 20",
                (user.id, user.id))).fetchall()
            sessions = await self._sessions(conn, user.id)
            references = await self._references(conn, user.id)
        app, own = (json.loads(str(text)) for text in (metadata or ("{}", "{}")))
        return UserDetail(user, app, own,
                          [(str(p), str(i), cast(datetime | None, at))
                           for p, i, at in identities],
                          sessions,
                          [(str(kind), str(status), str(label), cast(datetime, at))
                           for kind, status, label, at in factors],
                          [(cast(datetime, at), str(action)) for at, action in audit],
                          references)

    async def references(self, who: str) -> list[Reference]:
        """A dry run of deleting the user: each foreign key to auth.users (GoTrue's own
        tables and the application's), the rows that point at this user, and whether the
        delete would cascade to them, empty them, or be blocked by them."""
        async with self._connection() as conn:
            return await self._references(conn, (await self._find(conn, who)).id,
                                          fresh=True)

    async def _references(self, conn: Any, user_id: str, *,
                          fresh: bool = False) -> list[Reference]:
        """`fresh`: the foreign keys read from the catalog now (before a delete), not
        within the last CATALOG_SECONDS."""
        found = []
        for key in (await self._catalog(conn, fresh=fresh)).references:
            counted = await (await conn.execute(key.count, [user_id] * key.width)).fetchone()
            found.append(replace(key.reference, rows=int(counted[0]) if counted else 0))
        return found

    async def _catalog(self, conn: Any, *, fresh: bool = False) -> _AuthCatalog:
        """What the detail reads of the catalog (the foreign keys to auth.users, whether
        GoTrue's MFA table exists), read again at most every CATALOG_SECONDS."""
        if not fresh and self._catalog_read is not None and \
                time.monotonic() - self._catalog_read[0] < CATALOG_SECONDS:
            return self._catalog_read[1]
        from psycopg import sql

        actions = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null",
                   "d": "set default"}
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
        references = []
        for table, schema, name, action, columns in cast(list[tuple[Any, ...]], keys):
            names = [str(column) for column in columns]
            condition = sql.SQL(" and ").join(
                [sql.SQL("{} = %s").format(sql.Identifier(column)) for column in names])
            count = sql.SQL("select count(*) from {} where {}").format(
                sql.Identifier(str(schema), str(name)), condition).as_bytes(conn)
            references.append(_ForeignKey(Reference(
                str(table), ", ".join(names), 0, actions.get(str(action), str(action)),
                str(schema), str(name)), count, len(names)))
        factors = await (await conn.execute(
            "select to_regclass('auth.mfa_factors') is not null")).fetchone()
        catalog = _AuthCatalog(references, bool(factors and factors[0]))
        self._catalog_read = (time.monotonic(), catalog)
        return catalog

    async def set_metadata(self, who: str, which: str, text: str) -> MetadataChange:
        """Replace the user's `app` or `user` metadata with the JSON object `text` (checked
        before anything is written); what it was and what it is now."""
        column = METADATA_COLUMNS.get(which)
        if column is None:
            raise UserError(f"no metadata {which!r}: app or user")
        try:
            value = json.loads(text)
        except ValueError as error:
            raise UserError(f"not JSON: {error}") from None
        if not isinstance(value, dict):
            raise UserError("metadata is a JSON object ({...})")
        from psycopg import sql

        async with self._connection() as conn, conn.transaction():
            user = await self._find(conn, who)
            before = await (await conn.execute(sql.SQL(
                "select coalesce({}, '{{}}')::text from auth.users where id = %s::uuid "
                "for update").format(sql.Identifier(column)), (user.id,))).fetchone()
            await conn.execute(sql.SQL("update auth.users set {} = %s::jsonb, "
                                       "updated_at = now() where id = %s::uuid").format(
                sql.Identifier(column)), (json.dumps(value, ensure_ascii=False), user.id))
        return MetadataChange(user, which, json.loads(str(before[0]) if before else "{}"),
                              value)

    async def anomalies(self, *, max_sessions: int = 5,
                        stale: timedelta = timedelta(days=30)) -> Anomalies:
        """Users with more than `max_sessions` sessions, and sessions not refreshed (or,
        never refreshed, not created) for `stale`."""
        async with self._connection() as conn:
            crowded = await (await conn.execute(
                "select s.user_id::text, coalesce(u.email, u.phone, ''), count(*) "
                "from auth.sessions s join auth.users u on u.id = s.user_id "
                "group by 1, 2 having count(*) > %s order by 3 desc, 1 limit 100",
                (max_sessions,))).fetchall()
            # refreshed_at is a UTC timestamp without time zone (GoTrue's); compared as
            # it is, each condition reads its own index.
            old = await (await conn.execute(
                "select s.id::text, s.user_id::text, coalesce(u.email, u.phone, ''), "
                "coalesce(s.refreshed_at at time zone 'utc', s.created_at) "
                "from auth.sessions s join auth.users u on u.id = s.user_id "
                "where s.refreshed_at < (now() at time zone 'utc') - %s "
                "or (s.refreshed_at is null and s.created_at < now() - %s) "
                "order by 4 limit 100", (stale, stale))).fetchall()
        return Anomalies(max_sessions, stale,
                         [(str(u), str(e), int(n)) for u, e, n in crowded],
                         [(str(i), str(u), str(e), cast(datetime, at)) for i, u, e, at in old])

    def _connection(self) -> Any:
        return self.calls.connection()

    async def close(self) -> None:
        """Close the connection kept between calls."""
        await self.calls.close()

    async def _find(self, conn: Any, who: str) -> AuthUser:
        from psycopg import sql

        who = who.strip()
        if _is_uuid(who):
            where = "u.id = %s::uuid"
        elif "@" in who:
            where = "lower(u.email) = lower(%s)"
        else:  # a phone, written with or without its +, spaces or dashes
            where = "u.phone = %s"
            who = re.sub(r"[\s()+-]", "", who)
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


@functools.lru_cache(maxsize=256)
def _page_statement(key: str, conditions: tuple[str, ...], order: str,
                    place: bool, limit: int) -> bytes:
    """A page's statement, composed once per shape (sort, filters, search kind, size): the
    key and conditions are this module's own fragments; every value is a parameter, except
    the page's size, which is ours and written in (a `limit $n` took a quarter longer).
    `place`: the key is read too, as text (where no field of the user holds it)."""
    from psycopg import sql

    return sql.SQL("select {}{} from auth.users u where {} "
                   "order by {}{}, u.id{} limit {}").format(
        _user_columns(), sql.SQL(f", {key}::text" if place else ""), all_of(conditions),
        sql.SQL(key), sql.SQL(order), sql.SQL(order), sql.Literal(limit)).as_bytes(None)


@functools.lru_cache(maxsize=256)
def _providers(text: str) -> tuple[str, ...]:
    """A user's providers from their JSON text: a handful of distinct values over any
    number of users, so each is parsed once (it was a third of a page's time)."""
    return tuple(json.loads(text))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text.strip())
    except ValueError:
        return False
    return True


def _literal(value: str) -> str:
    """A string as an SQL literal, quoted by psycopg, its `%` doubled: it goes into a
    statement that also has parameters (which every caller passes, if only an empty list),
    where psycopg reads a single `%` as a placeholder."""
    from psycopg import sql

    return sql.Literal(value).as_string(None).replace("%", "%%")


def _like_prefix(text: str) -> str:
    """A LIKE pattern for values starting with `text` (its own % and _ taken literally)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
