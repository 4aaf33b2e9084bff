"""Users beyond the basics, against the real Postgres: every sort paged by key without a
gap or a repeat, counts, search anywhere, metadata, anomalies, tokens checked, a lock-out
killed mid-way, index use on 100,000 users, authorization (roles, grants, what a user may
do, RLS per table) and the row audit."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from datetime import timedelta

import psycopg
import pytest

from crestfall_tui.services.audit import Audit, AuditError
from crestfall_tui.services.auth_tokens import check_token, mint_token
from crestfall_tui.services.authz import Authorization, AuthzError
from crestfall_tui.services.run_as import RunAs
from crestfall_tui.services.users import SORTS, UserError, Users, metadata_diff
from tests.helpers import BINARY, StackUnderTest, insert_auth_user

Db = psycopg.Connection[tuple[object, ...]]


def tagged(tag: str, count: int, db: Db) -> list[str]:
    """`count` users named after `tag`, with sign-ins spread over days (some never)."""
    ids = []
    for number in range(count):
        user_id = insert_auth_user(db, f"{tag}-{number:03d}@sorts.test")
        db.execute("update auth.users set last_sign_in_at = case when %s %% 4 = 0 then null "
                   "else now() - make_interval(days => %s) end, phone = %s where id = %s",
                   (number, (number * 7) % 30, f"99{tag[:4]}{number:04d}", user_id))
        ids.append(user_id)
    return ids


@pytest.mark.parametrize("sort", list(SORTS))
async def test_every_sort_pages_by_key_without_gap_or_repeat(
        stack: StackUnderTest, db: Db, sort: str) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = tagged(tag, 23, db)
    users = Users(stack.runtime.postgres(read_only=False))
    seen, after = [], None
    while page := await users.page(tag, sort=sort, limit=5, after=after, contains=True):
        seen += page
        after = page[-1]
    assert sorted(u.id for u in seen) == sorted(ids)
    assert len({u.id for u in seen}) == len(seen)
    assert await users.page(tag, sort=sort, limit=5, last=True, contains=True) == seen[-5:]
    if sort == "email":
        assert [u.email for u in seen] == sorted(u.email for u in seen)
    if sort == "last_sign_in":  # latest first, those who never signed in last
        times = [u.last_sign_in_at for u in seen]
        signed = [t for t in times if t is not None]
        assert signed == sorted(signed, reverse=True)
        assert times[len(signed):] == [None] * (len(times) - len(signed))


async def test_counts_and_search_anywhere(stack: StackUnderTest, db: Db) -> None:
    """The estimate is the planner's (no rows read), the exact count counts; a prefix search
    finds only the start of an email, `contains` finds the middle."""
    tag = uuid.uuid4().hex[:8]
    tagged(tag, 12, db)
    users = Users(stack.runtime.postgres(read_only=False))
    exact = await users.count(tag, exact=True)
    assert exact.exact and exact.rows == 12 and str(exact) == "12"
    estimate = await users.count()
    assert not estimate.exact and str(estimate).startswith("~")
    middle = tag[2:7]
    assert await users.page(middle) == []
    assert len(await users.page(middle, contains=True)) == 12
    assert (await users.count(middle, contains=True, exact=True)).rows == 12


async def test_hostile_emails_and_a_megabyte_of_metadata_round_trip(
        stack: StackUnderTest) -> None:
    users = Users(stack.runtime.postgres(read_only=False))
    email = f"o'brien+\"quoted\"_%{uuid.uuid4().hex[:6]}@exämple.test"
    user = await users.create(email, "p'; drop table x; --", confirmed=False)
    assert user.email == email.lower()
    assert [u.id for u in await users.page(email[:12])] == [user.id]
    big = {"note": "ü'\"\\" * 10, "blob": "x" * 1_000_000, "nested": {"n": 12345678901234567890}}
    change = await users.set_metadata(user.id, "user", json.dumps(big))
    assert change.before == {} and change.after == big
    detail = await users.detail(user.id)
    assert detail.user_metadata == big
    assert metadata_diff({"a": 1}, {"a": 2})[-3:-1] == ['-  "a": 1', '+  "a": 2']
    with pytest.raises(UserError, match="not JSON"):
        await users.set_metadata(user.id, "app", "{not json")
    with pytest.raises(UserError, match="JSON object"):
        await users.set_metadata(user.id, "app", "[1, 2]")
    assert (await users.detail(user.id)).app_metadata["providers"] == ["email"]  # unchanged


async def test_anomalies_name_crowded_users_and_stale_sessions(
        stack: StackUnderTest, db: Db) -> None:
    crowded = insert_auth_user(db, f"crowded-{uuid.uuid4().hex[:6]}@sessions.test")
    for _ in range(4):
        db.execute("insert into auth.sessions (id, user_id, created_at, updated_at, "
                   "refreshed_at) values (gen_random_uuid(), %s, now(), now(), "
                   "now() at time zone 'utc')", (crowded,))
    stale = str(uuid.uuid4())
    db.execute("insert into auth.sessions (id, user_id, created_at, updated_at, refreshed_at) "
               "values (%s, %s, now() - interval '90 days', now(), "
               "(now() at time zone 'utc') - interval '60 days')", (stale, crowded))
    users = Users(stack.runtime.postgres(read_only=False))
    found = await users.anomalies(max_sessions=4, stale=timedelta(days=30))
    assert (crowded, found.crowded[0][1], 5) in found.crowded
    assert stale in [session for session, *_ in found.stale_sessions]
    recent = await users.anomalies(max_sessions=4, stale=timedelta(days=90))
    assert stale not in [session for session, *_ in recent.stale_sessions]
    page = await users.sessions(limit=2)
    older = await users.sessions(limit=2, before=page[-1])
    assert not {s.id for s in page} & {s.id for s in older}


def test_tokens_are_checked_for_signature_expiry_and_claims(stack: StackUnderTest) -> None:
    secret = stack.runtime.secrets.jwt_secret
    user_id = str(uuid.uuid4())
    good = check_token("Bearer " + mint_token(user_id, "a@b.test", secret, timedelta(minutes=5)),
                       secret)
    assert good.accepted and good.claims["sub"] == user_id and good.signature == "valid"
    expired = check_token(mint_token(user_id, None, secret, timedelta(seconds=-5)), secret)
    assert not expired.accepted and expired.problems[0].startswith("expired")
    forged = check_token(mint_token(user_id, None, "another secret" * 3, timedelta(hours=1)),
                         secret)
    assert forged.signature == "invalid" and not forged.accepted
    done = subprocess.run([str(BINARY), "users", "verify-token", "--stack", "local",
                           "--config", str(stack.config_path), "--json"],
                          input=mint_token(user_id, None, secret, timedelta(seconds=-5)),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and json.loads(done.stdout)["accepted"] is False
    garbage = subprocess.run([str(BINARY), "users", "verify-token", "--stack", "local",
                              "--config", str(stack.config_path)], input="not.a.token",
                             capture_output=True, text=True, timeout=60, check=False)
    assert garbage.returncode == 1 and "not a JWT" in garbage.stderr
    assert "Traceback" not in garbage.stderr


async def test_a_lockout_killed_mid_way_changes_nothing(stack: StackUnderTest, db: Db) -> None:
    """The lock-out's transaction is held at its session delete (another transaction locks
    the sessions table), then its backend is terminated: the user is not banned and keeps
    every refresh token."""
    user_id = insert_auth_user(db, f"killed-{uuid.uuid4().hex[:6]}@lockout.test")
    db.execute("insert into auth.sessions (id, user_id, created_at, updated_at) values "
               "(gen_random_uuid(), %s, now(), now())", (user_id,))
    db.execute("insert into auth.refresh_tokens (instance_id, token, user_id, revoked, "
               "created_at, updated_at) values ('00000000-0000-0000-0000-000000000000', %s, "
               "%s, false, now(), now())", (uuid.uuid4().hex, user_id))
    users = Users(stack.runtime.postgres(read_only=False))
    with psycopg.connect(stack.conninfo) as holder:
        holder.execute("lock table auth.sessions in access exclusive mode")
        lockout = asyncio.ensure_future(users.lockout(user_id))
        pid = None
        for _ in range(100):
            await asyncio.sleep(0.05)
            row = db.execute("select pid from pg_stat_activity where wait_event_type = 'Lock' "
                             "and query like 'delete from auth.sessions%%'").fetchone()
            if row:
                pid = row[0]
                break
        assert pid is not None, "the lock-out never reached its session delete"
        db.execute("select pg_terminate_backend(%s)", (pid,))
        with pytest.raises(UserError):
            await lockout
    row = db.execute("select banned_until, (select count(*) from auth.refresh_tokens where "
                     "user_id = %s::text), (select count(*) from auth.sessions where user_id "
                     "= %s) from auth.users where id = %s", (user_id, user_id, user_id)).fetchone()
    assert row == (None, 1, 1)


async def test_searches_and_pages_read_indexes_on_100k_users(
        stack: StackUnderTest, db: Db) -> None:
    """With 100,000 users, no list, sort, search or count estimate reads auth.users whole
    (asserted on EXPLAIN); a search anywhere tests row after row, as the toggle says."""
    tag = uuid.uuid4().hex[:6]
    db.execute("insert into auth.users (instance_id, id, aud, role, email, phone, created_at, "
               "updated_at, last_sign_in_at, raw_app_meta_data) select "
               "'00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', "
               "'authenticated', %s || g || '@bulk.test', %s || g, now() - g * interval '1s', "
               "now(), case when g %% 3 = 0 then now() - g * interval '1m' end, "
               "'{\"providers\": [\"email\"]}' from generate_series(1, 100000) g",
               (f"bulk{tag}-", f"77{tag}"))
    db.execute("analyze auth.users")
    users = Users(stack.runtime.postgres(read_only=False))
    try:
        plans = []
        for sort in SORTS:
            first = await users.page(sort=sort)
            plans.append(await _plan(stack, users, sort=sort))
            plans.append(await _plan(stack, users, sort=sort, after=first[-1]))
            plans.append(await _plan(stack, users, sort=sort, last=True))
        plans.append(await _plan(stack, users, search=f"bulk{tag}-123"))
        plans.append(await _plan(stack, users, search=f"77{tag}99"))
        for plan in plans:
            assert "Seq Scan on users" not in plan, plan
        anywhere = await _plan(stack, users, search=f"{tag}-12", contains=True)
        assert "Filter:" in anywhere and "~~*" in anywhere  # each row read and tested
    finally:
        db.execute("delete from auth.users where email like %s", (f"bulk{tag}-%",))


async def _plan(stack: StackUnderTest, users: Users, **page: object) -> str:
    """The plan of the statement `Users.page` runs with these arguments."""
    statement, params = users.page_query(**page)  # type: ignore[arg-type]
    async with await psycopg.AsyncConnection.connect(stack.conninfo) as conn:
        cursor = await conn.execute(b"explain " + statement, params)
        return "\n".join(str(row[0]) for row in await cursor.fetchall())


async def test_authorization_roles_grants_and_what_a_user_may_do(
        stack: StackUnderTest, db: Db) -> None:
    authz = Authorization(stack.runtime.postgres(read_only=False))
    tag = uuid.uuid4().hex[:6]
    editor, publish, read = f"editor{tag}", f"posts{tag}.publish", f"posts{tag}.read"
    await authz.create_role(editor, "writes posts")
    await authz.create_permission(publish)
    await authz.create_permission(read)
    await authz.grant(editor, publish)
    with pytest.raises(AuthzError, match="exists already"):
        await authz.create_role(editor)
    with pytest.raises(AuthzError, match="no permission"):
        await authz.grant(editor, f"missing{tag}")
    with pytest.raises(AuthzError, match="not a name"):
        await authz.create_role("two words")
    user_id = insert_auth_user(db, f"authz-{tag}@access.test")
    await authz.assign(user_id, editor)
    assert [r for r in await authz.roles() if r.name == editor][0].users == 1
    matrix = {p.name: p.allowed for p in await authz.matrix(
        RunAs("authenticated", user_id=user_id))}
    assert matrix[publish] is True and matrix[read] is False
    await authz.revoke(editor, publish)
    matrix = {p.name: p.allowed for p in await authz.matrix(
        RunAs("authenticated", user_id=user_id))}
    assert matrix[publish] is False
    with pytest.raises(AuthzError, match="does not have"):
        await authz.revoke(editor, publish)
    await authz.unassign(user_id, editor)
    await authz.drop_role(editor)
    assert editor not in [r.name for r in await authz.roles()]

    table = f"posts_{tag}"
    db.execute(f"create table public.{table} (id int); alter table public.{table} "
               "enable row level security; "
               f"create policy publishers on public.{table} for update to authenticated "
               f"using (public.is_authorized('{publish}'))")
    try:
        [found] = [t for t in await authz.table_security() if t.table == table]
        assert found.enabled and found.calls_is_authorized
        assert found.policies[0].command == "UPDATE"
        assert found.policies[0].roles == ("authenticated",)
    finally:
        db.execute(f"drop table public.{table}")


async def test_the_row_audit_tracks_pages_and_untracks(stack: StackUnderTest, db: Db) -> None:
    audit = Audit(stack.runtime.postgres(read_only=False))
    table = f"audited_{uuid.uuid4().hex[:6]}"
    db.execute(f"create table public.{table} (id int primary key, name text)")
    try:
        await audit.track(f"public.{table}")
        assert [t.tracked for t in await audit.tables() if t.table == table] == [True]
        actor = insert_auth_user(db, f"auditor-{uuid.uuid4().hex[:6]}@audit.test")
        for number in range(150):
            db.execute(f"insert into public.{table} values (%s, 'n')", (number,))
        with db.transaction():
            db.execute("select set_config('request.jwt.claims', %s, true)",
                       (json.dumps({"sub": actor, "role": "authenticated"}),))
            db.execute(f"update public.{table} set name = 'changed' where id = 7")
        first = await audit.changes(table=f"public.{table}")
        second = await audit.changes(table=f"public.{table}", before=first[-1].id)
        assert len(first) == 100 and len(second) == 51
        assert first[0].op == "UPDATE" and first[0].changed_columns() == ["name"]
        assert [c.id for c in first + second] == sorted((c.id for c in first + second),
                                                        reverse=True)
        [by_actor] = await audit.changes(actor=actor)
        assert by_actor.new == {"id": 7, "name": "changed"}
        await audit.untrack(f"public.{table}")
        db.execute(f"insert into public.{table} values (1000, 'after')")
        assert (await audit.changes(table=f"public.{table}"))[0].id == first[0].id
        with pytest.raises(AuditError, match="no table"):
            await audit.track("public.no_such_table_here")
    finally:
        db.execute(f"drop table public.{table}")


async def test_a_phone_user_is_written_as_gotrue_writes_one(stack: StackUnderTest,
                                                           db: Db) -> None:
    """A phone kept as digits without its +, a `phone` identity and provider, confirmed on
    request; found by the phone however it is written; MFA factors in the detail."""
    users = Users(stack.runtime.postgres(read_only=False))
    digits = "1555" + str(uuid.uuid4().int)[:7]
    user = await users.create(None, "pw", phone=f"+{digits[:1]} {digits[1:4]}-{digits[4:]}",
                              confirmed=True)
    assert user.phone == digits and user.email is None and user.providers == ("phone",)
    row = db.execute("select phone_confirmed_at is not null, email_confirmed_at, "
                     "(select provider || ':' || (identity_data->>'phone') from "
                     "auth.identities where user_id = u.id) from auth.users u where id = %s",
                     (user.id,)).fetchone()
    assert row == (True, None, f"phone:{digits}")
    assert (await users.find(f"+{digits}")).id == user.id
    with pytest.raises(UserError, match="exists already"):
        await users.create(None, None, phone=digits)
    with pytest.raises(UserError, match="not a phone number"):
        await users.create(None, None, phone="call me")
    db.execute("insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, "
               "status, created_at, updated_at) values (gen_random_uuid(), %s, 'phone app', "
               "'totp', 'verified', now(), now())", (user.id,))
    [(kind, status, label, _at)] = (await users.detail(user.id)).factors
    assert (kind, status, label) == ("totp", "verified", "phone app")
    await users.close()
