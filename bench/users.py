"""The Users section's reads on 1,000,000 users with 2,000,000 sessions, side by side in one
run, in process: the service (`Users`) against the bare SQL that reads the same rows, on an
open psycopg connection of its own.

    .venv/bin/python -m bench.run --only users [--runs 20]

The first page, the last page, an email-prefix search and a user's detail panel (the user,
metadata, identities, sessions with their refresh tokens, audit entries, the rows that
point at the user). Each plan is checked on EXPLAIN: none reads auth.users whole.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

USERS = 1_000_000
SESSIONS_PER_USER = 2
SEED = """
insert into auth.users (instance_id, id, aud, role, email, phone, created_at, updated_at,
    last_sign_in_at, raw_app_meta_data, raw_user_meta_data, confirmation_token,
    recovery_token, email_change_token_new, email_change)
select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated',
    'authenticated', 'user' || lpad(g::text, 7, '0') || '@bench.test', null,
    timestamptz '2025-01-01' + g * interval '10 seconds', now(),
    case when g %% 3 = 0 then now() - g * interval '1 minute' end,
    '{"provider": "email", "providers": ["email"]}', '{}', '', '', '', ''
from generate_series(1, %(users)s) g;
insert into auth.sessions (id, user_id, created_at, updated_at, refreshed_at, aal)
select gen_random_uuid(), u.id, u.created_at + s * interval '1 hour', now(),
    (u.created_at + s * interval '2 hours') at time zone 'utc', 'aal1'
from auth.users u, generate_series(1, %(sessions)s) s where u.email like 'user%%@bench.test'
"""
COLUMNS = """u.id::text, u.email, u.phone, u.created_at, u.last_sign_in_at,
    u.email_confirmed_at, u.banned_until, u.deleted_at, u.is_anonymous, u.is_sso_user,
    coalesce(u.raw_app_meta_data -> 'providers', '[]'::jsonb)::text"""
BARE = {
    "first page": f"select {COLUMNS} from auth.users u order by u.created_at, u.id limit 50",
    "last page": f"select {COLUMNS} from auth.users u order by u.created_at desc, u.id desc "
                 "limit 50",
    "email prefix": f"select {COLUMNS} from auth.users u where ((coalesce(lower(u.email), "
                    "'') collate \"C\") like 'user00123%%' or (coalesce(u.phone, '') collate "
                    "\"C\") like 'user00123%%') order by u.created_at, u.id limit 50",
}
DETAIL = [
    f"select {COLUMNS} from auth.users u where u.id = %(id)s::uuid",
    "select raw_app_meta_data::text, raw_user_meta_data::text from auth.users "
    "where id = %(id)s::uuid",
    "select provider, provider_id, last_sign_in_at from auth.identities "
    "where user_id = %(id)s::uuid order by created_at",
    "select created_at, payload->>'action' from auth.audit_log_entries where "
    "payload->'traits'->>'user_id' = %(id)s or payload->>'actor_id' = %(id)s "
    "order by created_at desc limit 20",
    "select s.id, s.created_at, s.refreshed_at, (select count(*) from auth.refresh_tokens r "
    "where r.session_id = s.id and not coalesce(r.revoked, false)) from auth.sessions s "
    "where s.user_id = %(id)s::uuid order by s.created_at desc",
]
"""The detail panel's reads as one would write them by hand (the references to the user,
one count per foreign key, are added from the catalog). The search reads what the
section's search reads: users whose email or phone starts with the text."""


def seed(url: str) -> None:
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in SEED.split(";"):
            conn.execute(statement, {"users": USERS, "sessions": SESSIONS_PER_USER})
        conn.execute("analyze auth.users")
        conn.execute("analyze auth.sessions")
        keys = conn.execute(
            "select c.conrelid::regclass::text, a.attname from pg_constraint c "
            "join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1] "
            "where c.contype = 'f' and c.confrelid = 'auth.users'::regclass").fetchall()
    DETAIL.extend(f"select count(*) from {table} where {column} = %(id)s::uuid"
                  for table, column in keys)
    print(f"users    seeded {USERS:,} users, {USERS * SESSIONS_PER_USER:,} sessions in "
          f"{time.monotonic() - started:.0f}s", flush=True)


async def measure(url: str, postgres: Any, runs: int) -> None:
    import psycopg

    from bench.side_by_side import medians
    from crestfall_tui.services.users import Users

    users = Users(postgres)
    bare = await psycopg.AsyncConnection.connect(url, autocommit=True)
    middle = (await users.page(search="user0500000"))[0]

    async def bare_rows(statement: str, params: dict[str, Any] | None = None) -> None:
        await (await bare.execute(statement, params)).fetchall()  # type: ignore[arg-type]

    async def bare_detail() -> None:
        for statement in DETAIL:
            await bare_rows(statement, {"id": middle.id})

    cases: dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]] = {
        "first page": (lambda: users.page(), lambda: bare_rows(BARE["first page"])),
        "last page": (lambda: users.page(last=True), lambda: bare_rows(BARE["last page"])),
        "email prefix": (lambda: users.page("user00123"),
                         lambda: bare_rows(BARE["email prefix"])),
        "detail panel": (lambda: users.detail(middle.id), bare_detail),
    }
    try:
        for name, (ours, theirs) in cases.items():
            mine, floor = await medians(ours, theirs, runs)
            print(f"users    {name}: ours {mine * 1000:.2f} ms, bare SQL {floor * 1000:.2f} ms,"
                  f" ratio {mine / floor:.2f} (goal <= 1.5)", flush=True)
        for label, page in (("first page", {}), ("last page", {"last": True}),
                            ("email prefix", {"search": "user00123"}),
                            ("last sign-in", {"sort": "last_sign_in"}),
                            ("email order", {"sort": "email"})):
            statement, params = users.page_query(**page)  # type: ignore[arg-type]
            plan = "\n".join(str(row[0]) for row in await (await bare.execute(
                b"explain " + statement, params)).fetchall())
            scans = "SEQUENTIAL SCAN" if "Seq Scan on users" in plan else "index"
            print(f"users    plan of {label}: {scans}", flush=True)
    finally:
        await users.close()
        await bare.close()


def bench_users(runs: int, make_stack: Callable[[str], Any]) -> None:
    from bench.side_by_side import on_fresh_stack

    on_fresh_stack("benchu", make_stack, seed, measure, runs)
