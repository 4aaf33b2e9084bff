"""The auth schema is the one GoTrue's own migrations build at the pinned release, its
versions recorded, on a new database and on one made by an earlier crestfall-tui (with its
rows, and what points at them, kept): against the real Postgres of the shared stack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from crestfall_tui.resources import init_sql_files
from crestfall_tui.stack.gotrue import GOTRUE_COMMIT, migration_files
from crestfall_tui.stack.init_sql import apply_init_sql
from tests.gotrue_catalog import auth_catalog
from tests.helpers import StackUnderTest, insert_auth_user, scratch_database

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "gotrue_auth_catalog.json").read_text())
ALICE = "11111111-1111-1111-1111-111111111111"
BOB = "22222222-2222-2222-2222-222222222222"


def catalog(conn: psycopg.Connection[Any]) -> dict[str, list[list[Any]]]:
    """The auth catalog as JSON would hold it (so it compares with the reference)."""
    parts: dict[str, list[list[Any]]] = json.loads(json.dumps(auth_catalog(conn), default=str))
    return parts


def assert_gotrues_shape(conn: psycopg.Connection[Any]) -> None:
    found = catalog(conn)
    for part, expected in REFERENCE.items():
        assert sorted(map(json.dumps, found[part])) == sorted(map(json.dumps, expected)), part
    versions = [str(r[0]) for r in conn.execute(
        "select version from auth.schema_migrations order by version").fetchall()]
    assert versions == sorted(version for version, _ in migration_files())


def test_the_stacks_auth_schema_is_gotrues_at_the_pinned_release(
        stack: StackUnderTest) -> None:
    """Every table, column, constraint, index, enum and function as GoTrue's 70 migrations
    leave them (owned by supabase_auth_admin), and every version recorded, so a GoTrue of
    that release has nothing to migrate."""
    assert len(migration_files()) == 70 and GOTRUE_COMMIT.startswith("bc32168")
    with psycopg.connect(stack.conninfo) as conn:
        assert_gotrues_shape(conn)
        tables = {r[0] for r in REFERENCE["tables"]}
        assert {"mfa_factors", "flow_state", "one_time_tokens", "oauth_clients",
                "webauthn_credentials", "sso_providers"} <= tables and len(tables) == 22


def test_an_earlier_crestfall_database_is_upgraded_keeping_every_row(
        stack: StackUnderTest) -> None:
    """A database made by the auth script crestfall-tui shipped before (hand-written
    tables, no version recorded), with users (one without an identity), a session, a
    refresh token whose parent is gone, a table with a foreign key to auth.users, a policy
    on auth.uid() and a trigger on auth.users: the init scripts bring it to GoTrue's shape
    and keep all of it."""
    before = [path for path in init_sql_files() if path.name < "20"]
    with scratch_database(stack, "upgrade_auth") as conn:
        for path in before:
            conn.execute(path.read_bytes())
        conn.execute((DATA / "crestfall_auth_before_gotrue.sql").read_bytes())
        for path in init_sql_files():
            if path.name >= "30":
                conn.execute(path.read_bytes())
        insert_auth_user(conn, "alice@x.test", ALICE)
        conn.execute("insert into auth.users (instance_id, id, aud, role, email, created_at, "
                     "updated_at) values ('00000000-0000-0000-0000-000000000000', %s, "
                     "'authenticated', 'authenticated', 'bob@x.test', now(), now())", (BOB,))
        conn.execute("insert into auth.sessions (id, user_id, created_at, updated_at) values "
                     "('33333333-3333-3333-3333-333333333333', %s, now(), now())", (ALICE,))
        conn.execute("insert into auth.refresh_tokens (instance_id, token, user_id, revoked, "
                     "created_at, updated_at, parent, session_id) values "
                     "('00000000-0000-0000-0000-000000000000', 'tok-2', %s, false, now(), "
                     "now(), 'tok-1-long-gone', '33333333-3333-3333-3333-333333333333')",
                     (ALICE,))
        conn.execute("create table public.profiles (id uuid primary key references "
                     "auth.users (id) on delete cascade, name text)")
        conn.execute("insert into public.profiles values (%s, 'alice')", (ALICE,))
        conn.execute("alter table public.profiles enable row level security; "
                     "create policy own on public.profiles using (id = auth.uid()); "
                     "grant select on public.profiles to authenticated")
        conn.execute("create function public.profile_for() returns trigger language plpgsql "
                     "as $$ begin insert into public.profiles values (new.id, new.email); "
                     "return new; end $$")
        conn.execute("create trigger on_auth_user_created after insert on auth.users "
                     "for each row execute function public.profile_for()")
        conn.execute("insert into authz.roles (name) values ('editor') on conflict do nothing")
        conn.execute("insert into authz.user_roles (user_id, role) values (%s, 'editor')",
                     (ALICE,))

        url = make_conninfo(stack.conninfo, dbname="upgrade_auth")
        report = apply_init_sql(url, stack.runtime.secrets)
        assert "GoTrue's migrations (70, up to 20260625000000)" in report.applied

        assert_gotrues_shape(conn)
        assert conn.execute("select email from auth.users order by email").fetchall() == [
            ("alice@x.test",), ("bob@x.test",)]
        assert conn.execute("select count(*) from auth.identities").fetchone() == (1,)
        assert conn.execute("select parent from auth.refresh_tokens").fetchone() == (
            "tok-1-long-gone",)
        assert conn.execute("select to_regnamespace('crestfall_auth_v0')").fetchone() == (None,)
        for referring in ("public.profiles", "authz.user_roles"):
            assert ("auth.users",) in conn.execute(
                "select confrelid::regclass::text from pg_constraint where conrelid = "
                "%s::regclass and contype = 'f'", (referring,)).fetchall(), referring
        # The trigger moved with the users: a new user gets a profile.
        insert_auth_user(conn, "carol@x.test")
        assert conn.execute("select count(*) from public.profiles").fetchone() == (2,)
        # The policy still calls auth.uid(): alice sees her own profile only.
        with conn.transaction():
            conn.execute("set local role authenticated")
            conn.execute("select set_config('request.jwt.claims', %s, true)",
                          (json.dumps({"sub": ALICE, "role": "authenticated"}),))
            assert conn.execute("select name from public.profiles").fetchall() == [("alice",)]
        # Deleting a user still cascades through the repointed foreign key.
        conn.execute("delete from auth.users where id = %s", (ALICE,))
        assert conn.execute("select count(*) from public.profiles where id = %s",
                            (ALICE,)).fetchone() == (0,)
        # A second pass has nothing left to do.
        assert apply_init_sql(url, stack.runtime.secrets).applied == ()


def test_a_real_gotrue_starts_on_the_stack() -> None:
    """GoTrue itself against the stack: no binary or image of the pinned release can be
    installed on this machine kind (no registry, no Go toolchain), so this says so."""
    if shutil.which("gotrue") is None and shutil.which("auth") is None:
        pytest.skip(f"no GoTrue binary of supabase/auth {GOTRUE_COMMIT} on this host")
    pytest.fail("a GoTrue binary is present: write the sign-in check against it")


def test_the_supabase_image_layout_is_brought_to_gotrues_shape(stack: StackUnderTest) -> None:
    """The supabase/postgres image's auth schema before GoTrue ran (the 2018 layout, seven
    old versions recorded): GoTrue's migrations bring it to the pinned release's shape, as
    GoTrue itself would, and its user stays."""
    before = [path for path in init_sql_files() if path.name < "20"]
    with scratch_database(stack, "image_auth") as conn:
        for path in before:
            conn.execute(path.read_bytes())
        conn.execute((DATA / "supabase_image_auth_2018.sql").read_bytes())
        apply_init_sql(make_conninfo(stack.conninfo, dbname="image_auth"),
                       stack.runtime.secrets)
        found = catalog(conn)
        for part, expected in REFERENCE.items():
            assert sorted(map(json.dumps, found[part])) == sorted(map(json.dumps, expected))
        assert conn.execute("select email from auth.users").fetchall() == [("old@x.test",)]
