"""Authorization as the stack's `authz` schema keeps it (30_authorization.sql): roles, the
permissions they carry, the users who hold them; what a user may do, asked of
`is_authorized()` as that user; and, per table, row-level security and its policies. No
Textual here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.calls import Calls
from crestfall_tui.services.run_as import RunAs, role_scope

_NAME = re.compile(r"^[\w.:-]{1,100}$")
_CALLS_IS_AUTHORIZED = re.compile(r"\bis_authorized\s*\(")


class AuthzError(CrestfallError):
    def __init__(self, message: str) -> None:
        super().__init__(message, title="Authorization")


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    permissions: tuple[str, ...]
    users: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "permissions": list(self.permissions), "users": self.users}


@dataclass(frozen=True)
class Permission:
    name: str
    description: str
    allowed: bool | None = None
    """For a matrix: whether `is_authorized()` says yes for the user asked about."""


@dataclass(frozen=True)
class Policy:
    name: str
    command: str
    roles: tuple[str, ...]
    using: str | None
    check: str | None

    @property
    def calls_is_authorized(self) -> bool:
        return any(_CALLS_IS_AUTHORIZED.search(text or "") for text in (self.using, self.check))


@dataclass(frozen=True)
class TableSecurity:
    """A table's row-level security: on or off (forced for its owner too), and its
    policies."""

    table: str
    enabled: bool
    forced: bool
    policies: tuple[Policy, ...]

    @property
    def calls_is_authorized(self) -> bool:
        return any(policy.calls_is_authorized for policy in self.policies)


class Authorization:
    """The stack's authz roles and permissions, through one connection per call."""

    def __init__(self, postgres: PostgresClient) -> None:
        self.postgres = postgres
        self.calls = Calls(postgres, AuthzError)

    async def roles(self) -> list[Role]:
        async with self._connection() as conn:
            rows = await (await conn.execute(
                "select r.name, r.description, coalesce(array_agg(rp.permission order by "
                "rp.permission) filter (where rp.permission is not null), '{}'), "
                "(select count(*) from authz.user_roles ur where ur.role = r.name) "
                "from authz.roles r left join authz.role_permissions rp on rp.role = r.name "
                "group by r.name, r.description order by r.name")).fetchall()
        return [Role(str(n), str(d), tuple(p), int(u)) for n, d, p, u in rows]

    async def permissions(self) -> list[Permission]:
        async with self._connection() as conn:
            rows = await (await conn.execute(
                "select name, description from authz.permissions order by name")).fetchall()
        return [Permission(str(n), str(d)) for n, d in rows]

    async def create_role(self, name: str, description: str = "") -> None:
        await self._write("insert into authz.roles (name, description) values (%s, %s)",
                          (_checked(name), description), f"a role {name!r} exists already")

    async def create_permission(self, name: str, description: str = "") -> None:
        await self._write("insert into authz.permissions (name, description) values (%s, %s)",
                          (_checked(name), description),
                          f"a permission {name!r} exists already")

    async def drop_role(self, name: str) -> None:
        await self._write_one("delete from authz.roles where name = %s", (name,),
                              f"no role {name!r}")

    async def drop_permission(self, name: str) -> None:
        await self._write_one("delete from authz.permissions where name = %s", (name,),
                              f"no permission {name!r}")

    async def grant(self, role: str, permission: str) -> None:
        """Give the role the permission (both must exist)."""
        await self._write("insert into authz.role_permissions (role, permission) values "
                          "(%s, %s) on conflict do nothing", (role, permission),
                          f"the role {role!r} has {permission!r} already")

    async def revoke(self, role: str, permission: str) -> None:
        await self._write_one("delete from authz.role_permissions where role = %s and "
                              "permission = %s", (role, permission),
                              f"the role {role!r} does not have {permission!r}")

    async def assign(self, user_id: str, role: str) -> None:
        """Give the user the role (both must exist)."""
        await self._write("insert into authz.user_roles (user_id, role) values (%s::uuid, %s) "
                          "on conflict do nothing", (user_id, role),
                          f"the user has the role {role!r} already")

    async def unassign(self, user_id: str, role: str) -> None:
        await self._write_one("delete from authz.user_roles where user_id = %s::uuid and "
                              "role = %s", (user_id, role),
                              f"the user does not have the role {role!r}")

    async def user_roles(self, user_id: str) -> list[str]:
        async with self._connection() as conn:
            rows = await (await conn.execute(
                "select role from authz.user_roles where user_id = %s::uuid order by role",
                (user_id,))).fetchall()
        return [str(role) for (role,) in rows]

    async def matrix(self, run_as: RunAs) -> list[Permission]:
        """Every permission, with what `is_authorized()` answers for it when asked as the
        user (role authenticated, the user's claims), exactly as a policy would ask."""
        permissions = await self.permissions()
        names = [p.name for p in permissions]
        async with self._connection() as conn, role_scope(conn, run_as):
            rows = await (await conn.execute(
                "select p, public.is_authorized(p) from unnest(%s::text[]) "
                "with ordinality t(p, n) order by n", (names,))).fetchall()
        allowed = {str(name): bool(yes) for name, yes in rows}
        return [Permission(p.name, p.description, allowed.get(p.name)) for p in permissions]

    async def table_security(self) -> list[TableSecurity]:
        """Every table outside the system's schemas: RLS on or off, and its policies."""
        async with self._connection() as conn:
            rows = await (await conn.execute(
                "select c.oid::regclass::text, c.relrowsecurity, c.relforcerowsecurity, "
                "coalesce(json_agg(json_build_object('name', p.polname, 'cmd', p.polcmd, "
                "'roles', (select coalesce(array_agg(r.rolname order by r.rolname), "
                "'{public}') from pg_roles r where r.oid = any(p.polroles)), "
                "'using', pg_get_expr(p.polqual, p.polrelid), "
                "'check', pg_get_expr(p.polwithcheck, p.polrelid)) order by p.polname) "
                "filter (where p.oid is not null), '[]') "
                "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "left join pg_policy p on p.polrelid = c.oid "
                "where c.relkind in ('r', 'p') and n.nspname not in "
                "('pg_catalog', 'information_schema', 'pg_toast', 'cron') "
                "and n.nspname not like 'pg_temp%%' "
                "group by c.oid, c.relrowsecurity, c.relforcerowsecurity "
                "order by 1")).fetchall()
        commands = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}
        return [TableSecurity(str(table), bool(on), bool(forced), tuple(
            Policy(p["name"], commands.get(p["cmd"], p["cmd"]), tuple(p["roles"]),
                   p["using"], p["check"]) for p in cast(list[dict[str, Any]], policies)))
                for table, on, forced, policies in rows]

    async def _write(self, statement: str, params: tuple[Any, ...], duplicate: str) -> None:
        import psycopg

        async with self._connection() as conn:
            try:
                cursor = await conn.execute(statement, params)
            except psycopg.errors.UniqueViolation:
                raise AuthzError(duplicate) from None
            except psycopg.errors.ForeignKeyViolation as error:
                raise AuthzError(_missing(error)) from None
            if cursor.rowcount == 0 and "on conflict do nothing" in statement:
                raise AuthzError(duplicate)

    async def _write_one(self, statement: str, params: tuple[Any, ...], missing: str) -> None:
        async with self._connection() as conn:
            if (await conn.execute(statement, params)).rowcount == 0:
                raise AuthzError(missing)

    def _connection(self) -> Any:
        return self.calls.connection()

    async def close(self) -> None:
        """Close the connection kept between calls."""
        await self.calls.close()


def _checked(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise AuthzError(f"{name!r} is not a name: letters, digits and . _ : - (up to 100)")
    return name


def _missing(error: Any) -> str:
    """Which of the names written does not exist, from Postgres's detail."""
    detail = error.diag.message_detail or ""
    match = re.search(r"Key \((\w+)\)=\((.*)\) is not present in table \"(\w+)\"", detail)
    if match:
        column, value, _table = match.groups()
        kind = {"role": "role", "permission": "permission", "user_id": "user"}.get(column,
                                                                                 column)
        return f"no {kind} {value!r}"
    return detail or str(error).strip().splitlines()[0]
