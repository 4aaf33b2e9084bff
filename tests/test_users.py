"""Auth users and sessions (the Users section's core and its headless twin) against the real
Postgres of the shared stack: rows as GoTrue writes them, ban, sessions, lock-out, tokens,
soft and hard delete."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import bcrypt
import jwt
import psycopg
import pytest

from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.auth_tokens import mint_token
from crestfall_tui.services.units import parse_duration
from crestfall_tui.services.users import UserError, Users
from tests.helpers import BINARY, StackUnderTest, run_cli

Db = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
async def users(stack: StackUnderTest) -> AsyncIterator[Users]:
    yield Users(stack.runtime.postgres(read_only=False))


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@users.test"


def add_session(db: Db, user_id: str, tokens: int = 2) -> str:
    session = str(uuid.uuid4())
    db.execute("insert into auth.sessions (id, user_id, created_at, updated_at, aal) values "
               "(%s, %s, now(), now(), 'aal1')", (session, user_id))
    for number in range(tokens):
        db.execute("insert into auth.refresh_tokens (instance_id, token, user_id, revoked, "
                   "created_at, updated_at, session_id) values "
                   "('00000000-0000-0000-0000-000000000000', %s, %s, false, now(), now(), %s)",
                   (f"{session}-{number}", user_id, session))
    return session


async def test_a_user_is_written_as_gotrue_writes_one(users: Users, db: Db) -> None:
    """Email lower-cased, a bcrypt $2a$ cost-10 password that bcrypt verifies, no NULL in
    the columns GoTrue reads, an email identity; a second user with that email is refused."""
    email = unique("New.Person")
    user = await users.create(email.upper(), "correct horse ü", confirmed=True)
    assert user.email == email.lower() and user.email_confirmed_at is not None
    row = db.execute(
        "select encrypted_password, instance_id, aud, role, confirmation_token, "
        "recovery_token, email_change_token_new, email_change, created_at, updated_at "
        "from auth.users where id = %s", (user.id,)).fetchone()
    assert row is not None and None not in row
    hashed = str(row[0])
    assert hashed.startswith("$2a$10$")
    assert bcrypt.checkpw("correct horse ü".encode(), hashed.encode())
    identity = db.execute("select provider, provider_id, identity_data->>'email' from "
                          "auth.identities where user_id = %s", (user.id,)).fetchone()
    assert identity == ("email", user.id, email.lower())
    with pytest.raises(UserError, match="exists already"):
        await users.create(email, None)


async def test_search_by_prefix_or_id_and_pages_in_creation_order(users: Users) -> None:
    """A prefix matches the start of an email (its % and _ literally); an id finds one user;
    pages follow (created_at, id) without gaps or repeats."""
    tag = uuid.uuid4().hex[:6]
    made = [await users.create(f"page{tag}_{n}@users.test", None) for n in range(5)]
    found = await users.page(f"page{tag}_")
    assert [u.id for u in found] == [u.id for u in made]
    assert await users.page(f"page{tag}%") == []  # a literal %, not a wildcard
    assert [u.id for u in await users.page(made[2].id)] == [made[2].id]
    first = await users.page(f"page{tag}", limit=2)
    rest = await users.page(f"page{tag}", limit=10,
                            after=first[-1])
    assert [u.id for u in first + rest] == [u.id for u in made]


async def test_ban_and_unban(users: Users) -> None:
    user = await users.create(unique("banned"), None)
    banned = await users.ban(user.email or "", parse_duration("1h30m"))
    assert banned.banned_until is not None
    assert (await users.unban(user.id)).banned_until is None
    for bad in ("soon", "", "5 parsecs"):
        with pytest.raises(CrestfallError, match="not a duration"):
            parse_duration(bad)
    with pytest.raises(UserError, match="no user"):
        await users.ban("nobody@users.test", timedelta(hours=1))


async def test_sessions_revoke_one_or_all(users: Users, db: Db) -> None:
    user = await users.create(unique("sessions"), None)
    first, second = add_session(db, user.id), add_session(db, user.id, tokens=1)
    found = {s.id: s.refresh_tokens for s in await users.sessions(user.id)}
    assert found == {first: 2, second: 1}
    assert await users.revoke(user.id, first) == 1
    assert [s.id for s in await users.sessions(user.id)] == [second]
    with pytest.raises(UserError, match="has no session"):
        await users.revoke(user.id, first)
    assert await users.revoke(user.id) == 1
    assert await users.sessions(user.id) == []
    assert db.execute("select count(*) from auth.refresh_tokens where user_id = %s",
                      (user.id,)).fetchone() == (0,)


async def test_lockout_ends_everything_in_one_transaction(users: Users, db: Db) -> None:
    """Banned, no session, no refresh token, an audit entry; and it says until when access
    tokens issued before stay valid."""
    user = await users.create(unique("locked"), None)
    add_session(db, user.id)
    add_session(db, user.id)
    done = await users.lockout(user.email or "")
    assert (done.sessions, done.refresh_tokens) == (2, 4)
    assert done.user.banned_until is not None and done.complete_at > done.user.created_at
    assert db.execute("select count(*) from auth.sessions where user_id = %s",
                      (user.id,)).fetchone() == (0,)
    assert db.execute("select count(*) from auth.refresh_tokens where user_id = %s",
                      (user.id,)).fetchone() == (0,)
    audit = db.execute("select payload from auth.audit_log_entries where "
                       "payload->'traits'->>'user_id' = %s", (user.id,)).fetchone()
    assert audit is not None and "lockout" in json.dumps(audit[0])


async def test_a_minted_token_is_the_users_until_it_expires(
        users: Users, stack: StackUnderTest, db: Db) -> None:
    """HS256 with the stack's secret: auth.uid() reads the user from its claims, as PostgREST
    passes them; after its ttl it no longer verifies."""
    user = await users.create(unique("token"), None)
    secret = stack.runtime.secrets.jwt_secret
    token = mint_token(user.id, user.email, secret, timedelta(minutes=5))
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="authenticated")
    with db.transaction():
        db.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        assert db.execute("select auth.uid()::text, auth.role()").fetchone() == (
            user.id, "authenticated")
    expired = mint_token(user.id, user.email, secret, timedelta(seconds=-1))  # its ttl already over
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, secret, algorithms=["HS256"], audience="authenticated")


async def test_soft_and_hard_delete(users: Users, db: Db) -> None:
    """Soft: as GoTrue's (email obfuscated by its own rule, no password, identities and
    sessions gone, the row kept). Hard: refused with the reason while a row references the
    user without cascading; gone once nothing does."""
    email = unique("soft")
    soft = await users.create(email, "pw")
    add_session(db, soft.id)
    await users.delete(soft.id, soft=True)
    row = db.execute("select email, encrypted_password, deleted_at from auth.users "
                     "where id = %s", (soft.id,)).fetchone()
    expected = base64.urlsafe_b64encode(
        hashlib.sha256((soft.id + email).encode()).digest()).decode().rstrip("=")
    assert row is not None and row[0] == expected and row[1] is None and row[2] is not None
    assert db.execute("select count(*) from auth.identities where user_id = %s",
                      (soft.id,)).fetchone() == (0,)

    hard = await users.create(unique("hard"), None)
    db.execute("create table if not exists users_test_owned (owner uuid references auth.users)")
    db.execute("insert into users_test_owned values (%s)", (hard.id,))
    with pytest.raises(UserError, match="cannot be deleted"):
        await users.delete(hard.id)
    db.execute("delete from users_test_owned where owner = %s", (hard.id,))
    await users.delete(hard.id)
    assert db.execute("select count(*) from auth.users where id = %s",
                      (hard.id,)).fetchone() == (0,)


def test_the_headless_twin(stack: StackUnderTest, db: Db) -> None:
    """create (password from stdin), list --json, ban, lockout, token; a missing user and a
    bad duration are one line and exit 1; delete asks for --yes."""
    email = unique("cli")
    created = subprocess.run(
        [str(BINARY), "users", "create", "--email", email, "--password-stdin", "--json",
         "--stack", "local", "--config", str(stack.config_path)],
        input="from stdin\n", capture_output=True, text=True, timeout=60, check=False)
    assert created.returncode == 0, created.stderr
    assert "from stdin" not in created.stdout + created.stderr
    piped = subprocess.run(
        [str(BINARY), "users", "password", email, "--stack", "local", "--config",
         str(stack.config_path)], input="from the pipe\n", capture_output=True, text=True,
        timeout=60, check=False)
    assert piped.returncode == 0, piped.stderr
    hashed = db.execute("select encrypted_password from auth.users where email = %s",
                        (email,)).fetchone()
    assert hashed is not None and bcrypt.checkpw(b"from the pipe", str(hashed[0]).encode())
    listed = json.loads(stack.cli("users", "list", "--search", email, "--json").stdout)
    assert [u["email"] for u in listed] == [email]
    assert stack.cli("users", "ban", email, "--for", "24h").returncode == 0
    locked = stack.cli("users", "lockout", email)
    assert locked.returncode == 0 and "access tokens issued before stay valid" in locked.stdout
    token = stack.cli("users", "token", email, "--ttl", "10m", "--json")
    assert json.loads(token.stdout)["expires_in"] == 600
    missing = stack.cli("users", "unban", "nobody@users.test")
    assert missing.returncode == 1 and missing.stderr.strip() == (
        "crestfall-tui: Users: no user 'nobody@users.test'")
    bad = stack.cli("users", "ban", email, "--for", "forever")
    assert bad.returncode == 1 and "not a duration" in bad.stderr
    assert stack.cli("users", "delete", email).returncode == 2
    metadata = subprocess.run(
        [str(BINARY), "users", "metadata", email, "--app", "--stack", "local", "--config",
         str(stack.config_path)], input='{"providers": ["email"], "tier": "gold"}',
        capture_output=True, text=True, timeout=60, check=False)
    assert metadata.returncode == 0 and '+  "tier": "gold"' in metadata.stdout
    not_json = subprocess.run(
        [str(BINARY), "users", "metadata", email, "--stack", "local", "--config",
         str(stack.config_path)], input="{oops", capture_output=True, text=True, timeout=60,
        check=False)
    assert not_json.returncode == 1 and "not JSON" in not_json.stderr
    by_email = json.loads(stack.cli("users", "list", "--search", email, "--sort", "email",
                                    "--json").stdout)
    assert [u["email"] for u in by_email] == [email]
    counted = json.loads(stack.cli("users", "list", "--search", email, "--count", "exact",
                                   "--json").stdout)
    assert counted == {"users": 1, "exact": True}
    assert stack.cli("users", "list", "--count", "estimate").stdout.startswith("~")
    anomalies = json.loads(stack.cli("users", "anomalies", "--sessions", "0", "--json").stdout)
    assert "users_with_many_sessions" in anomalies
    assert stack.cli("users", "anomalies", "--stale", "soon").returncode == 1
    assert stack.cli("users", "delete", email, "--yes").returncode == 0


async def test_filters_narrow_the_list(users: Users) -> None:
    tag = uuid.uuid4().hex[:6]
    plain = await users.create(f"filt{tag}a@users.test", None)
    confirmed = await users.create(f"filt{tag}b@users.test", None, confirmed=True)
    banned = await users.ban((await users.create(f"filt{tag}c@users.test", None)).id,
                             timedelta(hours=1))

    async def ids(*filters: str) -> set[str]:
        return {u.id for u in await users.page(f"filt{tag}", filters=filters)}

    assert await ids("confirmed") == {confirmed.id}
    assert await ids("unconfirmed") == {plain.id, banned.id}
    assert await ids("banned") == {banned.id}
    assert await ids("banned", "confirmed") == set()
    assert await ids("provider:email") == {plain.id, confirmed.id, banned.id}
    assert await ids("provider:github") == set()
    with pytest.raises(UserError, match="no filter 'vip'"):
        await ids("vip")


async def test_a_delete_dry_run_says_what_blocks_and_what_goes(
        users: Users, db: Db, stack: StackUnderTest) -> None:
    """Every foreign key to auth.users with this user's rows: GoTrue's identities go with
    the user (cascade); an application table without ON DELETE blocks it; nothing is
    deleted by asking."""
    user = await users.create(unique("dryrun"), None)
    db.execute("create table if not exists users_test_orders (buyer uuid references "
               "auth.users, note text)")
    db.execute("insert into users_test_orders values (%s, 'one'), (%s, 'two')",
               (user.id, user.id))
    found = {r.table: r for r in await users.references(user.email or "")}
    assert found["auth.identities"].rows == 1 and found["auth.identities"].on_delete == "cascade"
    assert not found["auth.identities"].blocks
    orders = found["users_test_orders"]
    assert (orders.rows, orders.on_delete, orders.blocks) == (2, "no action", True)
    assert (await users.find(user.id)).id == user.id  # still there
    said = stack.cli("users", "delete", user.id, "--dry-run")
    assert said.returncode == 0 and "users_test_orders (buyer): 2 row(s)" in said.stdout
    assert "BLOCKS the delete" in said.stdout
    db.execute("delete from users_test_orders where buyer = %s", (user.id,))


async def test_set_password_and_confirm(users: Users, db: Db) -> None:
    """A new password verifies with bcrypt (the old one no longer); confirm sets
    email_confirmed_at once."""
    user = await users.create(unique("pw"), "old one")
    await users.set_password(user.id, "new one")
    hashed = db.execute("select encrypted_password from auth.users where id = %s",
                        (user.id,)).fetchone()
    assert hashed is not None
    assert bcrypt.checkpw(b"new one", str(hashed[0]).encode())
    assert not bcrypt.checkpw(b"old one", str(hashed[0]).encode())
    with pytest.raises(UserError, match="empty"):
        await users.set_password(user.id, "")
    confirmed = await users.confirm(user.email or "")
    assert confirmed.email_confirmed_at is not None
    assert (await users.confirm(user.id)).email_confirmed_at == confirmed.email_confirmed_at


def test_what_postgres_refuses_is_one_line(stack: StackUnderTest) -> None:
    """A write on a read-only stack (the server refuses it) and a session id that is no id:
    one line and exit 1, never a traceback."""
    email = unique("refused")
    assert stack.cli("users", "create", "--email", email).returncode == 0
    refused = run_cli("--read-only", "users", "ban", email, "--for", "1h", "--stack", "local",
                      "--config", str(stack.config_path))
    assert refused.returncode == 1, refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert "read-only" in refused.stderr or "permission denied" in refused.stderr
    garbled = stack.cli("users", "revoke", email, "--session", "not-an-id")
    assert garbled.returncode == 1 and "Traceback" not in garbled.stderr
    assert len(garbled.stderr.splitlines()) == 1
