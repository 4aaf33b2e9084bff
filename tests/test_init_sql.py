"""The sql/ init scripts, checked against the real Postgres of the shared stack."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from crestfall_tui.resources import init_sql_files
from crestfall_tui.stack.init_sql import apply_init_sql
from tests.helpers import StackUnderTest, eventually, insert_auth_user

Conn = psycopg.Connection[tuple[object, ...]]


def columns(db: Conn, schema: str, table: str) -> set[str]:
    rows = db.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s", (schema, table)).fetchall()
    return {str(r[0]) for r in rows}


def test_extensions_present_and_missing_reported(db: Conn) -> None:
    """Every extension Debian's packages provide is created; the others are absent, not fatal."""
    installed = {r[0] for r in db.execute("select extname from pg_extension").fetchall()}
    assert {"pgcrypto", "uuid-ossp", "pg_cron", "pgaudit", "pg_stat_statements"} <= installed
    available = {r[0] for r in db.execute("select name from pg_available_extensions")}
    for name in ("pgjwt", "pgsodium", "http"):
        assert (name in installed) == (name in available)


def test_preloads_make_cron_and_audit_work(db: Conn) -> None:
    """pg_cron, pgaudit and pg_stat_statements are preloaded, so they really run."""
    preload = str(db.execute("show shared_preload_libraries").fetchone()[0])  # type: ignore[index]
    assert {"pg_cron", "pgaudit", "pg_stat_statements"} <= set(preload.split(","))
    job = db.execute("select cron.schedule('crestfall-test', '0 3 * * *', 'select 1')").fetchone()
    assert job is not None and int(job[0]) > 0  # type: ignore[call-overload]
    db.execute("select cron.unschedule('crestfall-test')")
    assert db.execute("select count(*) from pg_stat_statements").fetchone() is not None


def test_pgaudit_logs_ddl_to_the_json_log(stack: StackUnderTest, db: Conn) -> None:
    """A DDL statement in a new session leaves an AUDIT line in the server's jsonlog."""
    marker = f"audit_marker_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(stack.conninfo, autocommit=True) as fresh:
        fresh.execute(f"create table {marker} (id int)")
        fresh.execute(f"drop table {marker}")
    assert eventually(lambda: any(
        "AUDIT: SESSION" in line and marker in line for line in stack.runtime.logs("db", 200)))


def test_roles_exist_with_their_attributes(db: Conn) -> None:
    """The API roles, PostgREST's login role and GoTrue's admin role are as PostgREST needs."""
    rows = db.execute(
        "select rolname, rolcanlogin, rolinherit, rolbypassrls, rolpassword is not null "
        "from pg_authid where rolname in "
        "('anon','authenticated','service_role','authenticator','supabase_auth_admin')"
    ).fetchall()
    roles = {r[0]: r[1:] for r in rows}
    assert roles["anon"][:2] == (False, False)
    assert roles["authenticated"][:2] == (False, False)
    assert roles["service_role"][2] is True
    assert roles["authenticator"] == (True, False, False, True)
    assert roles["supabase_auth_admin"][0] is True and roles["supabase_auth_admin"][3] is True
    members = {r[0] for r in db.execute(
        "select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid "
        "join pg_roles u on u.oid = m.member where u.rolname = 'authenticator'")}
    assert members >= {"anon", "authenticated", "service_role"}


def test_authenticator_logs_in_with_its_secret(stack: StackUnderTest) -> None:
    """PostgREST's login role accepts the password from the stack's secrets, and only that."""
    base = dict(host="127.0.0.1", port=stack.stack.ports.db, dbname="postgres",
                user="authenticator")
    with psycopg.connect(**base, password=stack.runtime.secrets.authenticator_password) as conn:
        assert conn.execute("select current_user").fetchone() == ("authenticator",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**base, password="wrong")


def test_auth_schema_has_gotrue_shape(db: Conn) -> None:
    """auth.* has the tables and columns GoTrue's current migrations leave."""
    assert {"id", "email", "encrypted_password", "email_confirmed_at", "banned_until",
            "deleted_at", "is_anonymous", "is_sso_user", "confirmed_at", "phone",
            "raw_app_meta_data", "raw_user_meta_data", "confirmation_token",
            "email_change_token_new"} <= columns(db, "auth", "users")
    assert {"provider_id", "user_id", "identity_data", "provider", "email", "id"} <= columns(
        db, "auth", "identities")
    assert {"id", "user_id", "aal", "not_after", "user_agent", "ip"} <= columns(
        db, "auth", "sessions")
    assert {"token", "user_id", "revoked", "session_id", "parent"} <= columns(
        db, "auth", "refresh_tokens")
    assert {"id", "payload", "ip_address"} <= columns(db, "auth", "audit_log_entries")
    assert columns(db, "auth", "schema_migrations") == {"version"}
    generated = db.execute(
        "select attgenerated from pg_attribute where attrelid = 'auth.users'::regclass "
        "and attname = 'confirmed_at'").fetchone()
    assert generated == ("s",)


def new_user(db: Conn, email: str) -> uuid.UUID:
    """An auth user as GoTrue (and the Users section) writes one."""
    return uuid.UUID(insert_auth_user(db, email))


def test_users_written_are_ones_gotrue_can_load(db: Conn) -> None:
    """No NULL in the columns GoTrue's Go structs read (supabase/auth#1940), and an email
    identity for an email user."""
    user = new_user(db, f"{uuid.uuid4().hex[:8]}@loadable.test")
    try:
        row = db.execute(
            "select instance_id, aud, role, confirmation_token, recovery_token, "
            "email_change_token_new, email_change, created_at, updated_at "
            "from auth.users where id = %s", (user,)).fetchone()
        assert row is not None and None not in row
        identity = db.execute(
            "select provider, provider_id, identity_data->>'sub', created_at, updated_at "
            "from auth.identities where user_id = %s", (user,)).fetchone()
        assert identity is not None and identity[:3] == ("email", str(user), str(user))
        assert None not in identity
    finally:
        db.execute("delete from auth.users where id = %s", (user,))


def test_auth_functions_read_postgrest_claims(db: Conn) -> None:
    """auth.uid/role/email/jwt read request.jwt.claims, and give NULL when it is unset or ''."""
    assert db.execute("select auth.uid(), auth.role(), auth.email(), auth.jwt()").fetchone() == (
        None, None, None, None)
    user = uuid.uuid4()
    claims = {"sub": str(user), "role": "authenticated", "email": "a@example.com"}
    with db.transaction():
        db.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        row = db.execute("select auth.uid(), auth.role(), auth.email(), auth.jwt()").fetchone()
    assert row == (user, "authenticated", "a@example.com", claims)
    # After a transaction-local setting, the session reads '' — still NULL, not an error.
    assert db.execute("select current_setting('request.jwt.claims', true)").fetchone() == ("",)
    assert db.execute("select auth.uid(), auth.jwt()").fetchone() == (None, None)


def test_is_authorized_follows_user_roles(db: Conn) -> None:
    """is_authorized(permission) is true only for a user holding a role with that permission."""
    editor, reader = new_user(db, "editor@example.com"), new_user(db, "reader@example.com")
    db.execute("insert into authz.roles (name) values ('editor') on conflict do nothing")
    db.execute("insert into authz.permissions (name) values ('posts.update') "
               "on conflict do nothing")
    db.execute("insert into authz.role_permissions values ('editor', 'posts.update') "
               "on conflict do nothing")
    db.execute("insert into authz.user_roles (user_id, role) values (%s, 'editor')", (editor,))

    def authorized(user: uuid.UUID | None, permission: str) -> bool:
        with db.transaction():
            claims = json.dumps({"sub": str(user), "role": "authenticated"}) if user else ""
            db.execute("select set_config('request.jwt.claims', %s, true)", (claims,))
            db.execute("set local role authenticated")
            row = db.execute("select is_authorized(%s)", (permission,)).fetchone()
        assert row is not None
        return bool(row[0])

    assert authorized(editor, "posts.update") is True
    assert authorized(editor, "posts.delete") is False
    assert authorized(reader, "posts.update") is False
    assert authorized(None, "posts.update") is False


def test_track_records_changes_with_actor(db: Conn) -> None:
    """audit.track records insert/update/delete with old and new rows and auth.uid()."""
    db.execute("drop table if exists public.tracked; "
               "create table public.tracked (id int primary key, note text)")
    db.execute("select audit.track('public.tracked')")
    actor = uuid.uuid4()
    with db.transaction():
        db.execute("select set_config('request.jwt.claims', %s, true)",
                   (json.dumps({"sub": str(actor)}),))
        db.execute("insert into public.tracked values (1, 'first')")
        db.execute("update public.tracked set note = 'second' where id = 1")
        db.execute("delete from public.tracked where id = 1")
    rows = db.execute(
        "select op, old_record, new_record, actor, db_role from audit.record_changes "
        "where table_oid = 'public.tracked'::regclass order by id").fetchall()
    assert [r[0] for r in rows] == ["INSERT", "UPDATE", "DELETE"]
    assert rows[0][1] is None and rows[0][2] == {"id": 1, "note": "first"}
    assert rows[1][1] == {"id": 1, "note": "first"} and rows[1][2] == {"id": 1, "note": "second"}
    assert rows[2][1] == {"id": 1, "note": "second"} and rows[2][2] is None
    assert {r[3] for r in rows} == {actor}
    db.execute("select audit.untrack('public.tracked')")
    db.execute("insert into public.tracked values (2, 'not audited')")
    count = db.execute("select count(*) from audit.record_changes "
                       "where table_oid = 'public.tracked'::regclass").fetchone()
    assert count == (3,)


def test_scripts_are_idempotent(stack: StackUnderTest, db: Conn) -> None:
    """Running every script again succeeds; a second pass of `up`'s runner applies nothing."""
    for path in init_sql_files():
        db.execute(path.read_text().encode())
    report = apply_init_sql(stack.conninfo, stack.runtime.secrets)
    assert report.applied == ()
    assert "pgjwt" in report.missing_extensions or "pgjwt" not in {
        r[0] for r in db.execute("select name from pg_available_extensions")}


def test_extensions_that_need_preloading_are_reported_not_fatal() -> None:
    """A server the project did not configure: pg_cron and pgaudit are installed but not in
    shared_preload_libraries. 00_extensions.sql reports each (with Postgres's reason) and
    goes on to create the others, and init passes that on."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    from crestfall_tui.stack.init_sql import initialise_db
    from crestfall_tui.stack.native_db import find_bindir
    from crestfall_tui.stack.processes import free_port
    from crestfall_tui.stack.secrets import StackSecrets

    bindir = find_bindir()
    if bindir is None or os.geteuid() != 0:
        pytest.skip("needs Debian's PostgreSQL and root (to run it as postgres)")
    import tempfile

    # Not under pytest's tmp_path: the postgres user must be able to reach it.
    data = Path(tempfile.mkdtemp(prefix="crestfall-bare-"))
    shutil.chown(data, "postgres", "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                    "-U", "postgres"], check=True, capture_output=True)
    port = free_port()
    # The server gets a log file of its own: on a pipe it would keep ours open.
    subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l",
                    str(data / "server.log"), "-o",
                    f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)
    try:
        lines: list[str] = []
        initialise_db(f"postgresql://postgres@127.0.0.1:{port}/postgres", StackSecrets.generate(),
                      lambda step: lines.append(step.message))
        assert any(line.startswith("extension pg_cron could not be created") for line in lines)
        assert any(line.startswith("extension pgaudit could not be created") and
                   "shared_preload_libraries" in line for line in lines), lines
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres") as conn:
            created = {r[0] for r in conn.execute("select extname from pg_extension")}
            assert {"pgcrypto", "uuid-ossp"} <= created and "pgaudit" not in created
            assert conn.execute("select count(*) from crestfall.init_scripts").fetchone() == (
                len(init_sql_files()),)
    finally:
        subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m",
                        "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(data, ignore_errors=True)
