"""The Users section (F4) driven by keys (Pilot) against the real Postgres: search, detail,
ban, lock out, delete with its dry run and typed confirmation."""

from __future__ import annotations

import json
import uuid

import bcrypt
import psycopg
from textual.widgets import DataTable, Input, TextArea

from crestfall_tui.app import CrestfallApp
from crestfall_tui.modals import ConfirmModal, PromptModal
from crestfall_tui.screens import UsersScreen
from crestfall_tui.screens.users.user_list import UserList
from crestfall_tui.services.users import Users
from tests.drivers import until
from tests.helpers import StackUnderTest

Db = psycopg.Connection[tuple[object, ...]]


async def open_users(pilot: object, app: CrestfallApp, search: str) -> UserList:
    """F4, `/`, the search, enter: the users found in the table."""
    await pilot.press("f4")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, UsersScreen))  # type: ignore[arg-type]
    listed = app.screen.query_one(UserList)
    await pilot.press("slash")  # type: ignore[attr-defined]
    listed.query_one("#users-search", Input).value = search
    await pilot.press("enter")  # type: ignore[attr-defined]
    await until(pilot, lambda: listed.search == search and bool(listed.shown)  # type: ignore[arg-type]
                and listed.shown[0].email is not None
                and listed.shown[0].email.startswith(search))
    return listed


def on_screen(app: CrestfallApp) -> str:
    """What the terminal shows (its SVG picture's text)."""
    return app.export_screenshot().replace("&#160;", " ")


async def test_search_detail_ban_lockout_and_delete_by_keys(
        stack: StackUnderTest, db: Db) -> None:
    tag = uuid.uuid4().hex[:6]
    users = Users(stack.runtime.postgres(read_only=False))
    first = await users.create(f"keys{tag}a@users.test", "pw", confirmed=True)
    await users.create(f"keys{tag}b@users.test", None)
    db.execute("insert into auth.sessions (id, user_id, created_at, updated_at) values "
               "(gen_random_uuid(), %s, now(), now())", (first.id,))
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_users(pilot, app, f"keys{tag}")
        assert [u.email for u in screen.shown] == [f"keys{tag}a@users.test",
                                                   f"keys{tag}b@users.test"]
        screen.query_one(DataTable).focus()
        await until(pilot, lambda: first.id in on_screen(app))
        shown = on_screen(app)
        assert "identities" in shown and "auth.sessions (user_id): 1 row(s)" in shown

        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press("enter")  # the offered 24h
        await until(pilot, lambda: str(screen.query_one(DataTable).get_row_at(0)[4])
                    == "banned")

        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: db.execute(
            "select count(*) from auth.sessions where user_id = %s", (first.id,)).fetchone()
            == (0,))

        await pilot.press("down", "D")
        await until(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press(*"wrong", "enter")
        await until(pilot, lambda: not isinstance(app.screen, PromptModal))
        await app.workers.wait_for_complete()
        assert db.execute("select count(*) from auth.users where email = %s",
                          (f"keys{tag}b@users.test",)).fetchone() == (1,)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press(*f"keys{tag}b@users.test", "enter")
        await until(pilot, lambda: db.execute(
            "select count(*) from auth.users where email = %s",
            (f"keys{tag}b@users.test",)).fetchone() == (0,))


async def test_new_user_by_keys_and_read_only_offers_no_writes(stack: StackUnderTest,
                                                               db: Db) -> None:
    """n asks for an email, a password and whether it is confirmed, then shows the user; on
    a read-only stack the write keys do nothing."""
    from dataclasses import replace

    email = f"new{uuid.uuid4().hex[:6]}@users.test"
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, UsersScreen))
        app.screen.query_one("#users-table", DataTable).focus()
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press(*email, "enter")
        await until(pilot, lambda: isinstance(app.screen, PromptModal)
                    and "Password" in str(app.screen.query_one("Label").render()))
        await pilot.press(*"secret", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: db.execute(
            "select email_confirmed_at is not null from auth.users where email = %s",
            (email,)).fetchone() == (True,))
        screen = app.screen.query_one(UserList)
        await until(pilot, lambda: [u.email for u in screen.shown] == [email])
        screen.query_one(DataTable).focus()
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PromptModal))
        assert app.screen.query_one(Input).password  # not shown as it is typed
        await pilot.press(*"changed", "enter")
        await until(pilot, lambda: bcrypt.checkpw(b"changed", str(db.execute(
            "select encrypted_password from auth.users where email = %s",
            (email,)).fetchone()[0]).encode()))  # type: ignore[index]

    reader = CrestfallApp(replace(stack.stack, read_only=True), stack.runtime)
    async with reader.run_test(size=(120, 36)) as pilot:
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(reader.screen, UsersScreen))
        reader.screen.query_one("#users-table", DataTable).focus()
        await pilot.press("n")
        await reader.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(reader.screen, PromptModal)


async def test_access_audit_sessions_and_metadata_by_keys(stack: StackUnderTest, db: Db) -> None:
    """3: a role and a permission made and granted by keys; 4: a table tracked by keys, its
    changes listed; 2: the sessions with their anomalies; 1: metadata edited as JSON, the
    diff asked about, then written."""
    from textual.widgets import TextArea

    from crestfall_tui.modals import PickerModal, TextEditorModal
    from crestfall_tui.screens.users.audit_pane import AuditPane
    from crestfall_tui.screens.users.sessions_pane import SessionsPane

    tag = uuid.uuid4().hex[:6]
    table = f"keyed_{tag}"
    db.execute(f"create table public.{table} (id int)")
    users = Users(stack.runtime.postgres(read_only=False))
    user = await users.create(f"meta{tag}@users.test", None)
    app = CrestfallApp(stack.stack, stack.runtime)
    try:
        async with app.run_test(size=(160, 44)) as pilot:
            listed = await open_users(pilot, app, f"meta{tag}")
            listed.query_one(DataTable).focus()
            await pilot.press("m")
            await until(pilot, lambda: isinstance(app.screen, PickerModal))
            await pilot.press(*"user", "enter")
            await until(pilot, lambda: isinstance(app.screen, TextEditorModal))
            app.screen.query_one(TextArea).text = '{"plan": "pro", "seats": 3}'
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            assert '+  "plan": "pro",' in app.screen.question  # type: ignore[attr-defined]
            await pilot.press("y")
            await until(pilot, lambda: db.execute(
                "select raw_user_meta_data->>'plan' from auth.users where id = %s",
                (user.id,)).fetchone() == ("pro",))

            await pilot.press("3")
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, PromptModal))
            await pilot.press(*f"keyrole{tag} made by keys", "enter")
            await pilot.press("P")
            await until(pilot, lambda: isinstance(app.screen, PromptModal))
            await pilot.press(*f"key{tag}.write", "enter")
            await until(pilot, lambda: db.execute(
                "select count(*) from authz.permissions where name = %s",
                (f"key{tag}.write",)).fetchone() == (1,))
            await until(pilot, lambda: f"keyrole{tag}" in on_screen(app))
            roles = app.screen.query_one("#access-roles", DataTable)
            roles.move_cursor(row=roles.get_row_index(f"keyrole{tag}"))
            await pilot.press("g")
            await until(pilot, lambda: isinstance(app.screen, PickerModal))
            await pilot.press(*f"key{tag}", "enter")
            await until(pilot, lambda: db.execute(
                "select count(*) from authz.role_permissions where role = %s",
                (f"keyrole{tag}",)).fetchone() == (1,))

            await pilot.press("4")
            audit = app.screen.query_one(AuditPane)
            await until(pilot, lambda: any(t.table == table for t in audit.tables))
            tables = app.screen.query_one("#audit-tables", DataTable)
            tables.move_cursor(row=[t.table for t in audit.tables].index(table))
            tables.focus()
            await pilot.press("t")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("y")
            await until(pilot, lambda: any(t.table == table and t.tracked
                                           for t in audit.tables))
            db.execute(f"insert into public.{table} values (1)")
            await pilot.press("r")
            await until(pilot, lambda: [c.op for c in audit.changes] == ["INSERT"])

            await pilot.press("2")
            sessions = app.screen.query_one(SessionsPane)
            await until(pilot, lambda: "users with more than 5 sessions" in on_screen(app))
            assert sessions.shown is not None
    finally:
        db.execute(f"drop table public.{table}")
        db.execute("delete from authz.roles where name = %s", (f"keyrole{tag}",))
        db.execute("delete from authz.permissions where name = %s", (f"key{tag}.write",))


async def test_jump_from_a_user_to_the_rows_that_point_at_them(stack: StackUnderTest,
                                                               db: Db) -> None:
    """J lists the tables with rows pointing at the user; choosing one opens it in Tables,
    filtered to this user's rows."""
    from crestfall_tui.modals import PickerModal
    from crestfall_tui.screens import TablesScreen

    tag = uuid.uuid4().hex[:6]
    users = Users(stack.runtime.postgres(read_only=False))
    user = await users.create(f"jump{tag}@users.test", None)
    await users.close()
    db.execute("insert into auth.sessions (id, user_id, created_at, updated_at) values "
               "(gen_random_uuid(), %s, now(), now())", (user.id,))
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(160, 44)) as pilot:
        listed = await open_users(pilot, app, f"jump{tag}")
        listed.query_one(DataTable).focus()
        await pilot.press("J")
        await until(pilot, lambda: isinstance(app.screen, PickerModal))
        await pilot.press(*"sessions", "enter")
        await until(pilot, lambda: isinstance(app.screen, TablesScreen)
                    and app.screen.view is not None
                    and app.screen.view.table.name == "sessions")
        screen = app.screen
        assert isinstance(screen, TablesScreen) and screen.view is not None
        assert [(f.column, f.value) for f in screen.view.filters] == [("user_id", user.id)]
        await until(pilot, lambda: screen.grid.row_count == 1)


async def test_values_holding_markup_show_as_written(stack: StackUnderTest, db: Db) -> None:
    """A user agent holding `[FBAN/...]` and `[/x]` (Rich markup to a DataTable) and an MFA
    factor named `[/b]` are shown as written in the Sessions tab and the user's detail."""
    tag = uuid.uuid4().hex[:6]
    users = Users(stack.runtime.postgres(read_only=False))
    user = await users.create(f"markup{tag}@users.test", None)
    await users.close()
    agent = f"Mozilla/5.0 [FBAN/FBIOS;FBAV/1] [/x] {tag}"
    db.execute("insert into auth.sessions (id, user_id, created_at, updated_at, user_agent) "
               "values (gen_random_uuid(), %s, now(), now(), %s)", (user.id, agent))
    db.execute("insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, "
               "status, created_at, updated_at) values (gen_random_uuid(), %s, %s, 'totp', "
               "'verified', now(), now())", (user.id, f"[/b] key {tag}"))
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(200, 50)) as pilot:
        listed = await open_users(pilot, app, f"markup{tag}")
        listed.query_one(DataTable).focus()

        def seen() -> str:
            return on_screen(app).replace("&#91;", "[").replace("&#93;", "]")

        await until(pilot, lambda: f"[/b] key {tag}" in seen())
        await pilot.press("2")
        await until(pilot, lambda: "[FBAN/FBIOS;FBAV/1] [/x]" in seen())


async def test_access_audit_and_sessions_keys_that_undo(stack: StackUnderTest, db: Db) -> None:
    """3: a role given to a user (a), what the user may do (w, asked as them), taken back
    (U), its permission revoked (v), the RLS overview (T), the role dropped (X); 4: a change
    in full (enter), one user's changes (w), the table untracked (U); 2: a session ended
    (x)."""
    from crestfall_tui.modals import PickerModal, TextModal
    from crestfall_tui.screens.users.access_pane import AccessPane
    from crestfall_tui.screens.users.audit_pane import AuditPane
    from crestfall_tui.screens.users.sessions_pane import SessionsPane
    from crestfall_tui.services.audit import Audit
    from crestfall_tui.services.authz import Authorization

    tag = uuid.uuid4().hex[:6]
    role, permission, table = f"undo{tag}", f"undo{tag}.read", f"undo_{tag}"
    users = Users(stack.runtime.postgres(read_only=False))
    user = await users.create(f"undo{tag}@users.test", None)
    await users.close()
    authz = Authorization(stack.runtime.postgres(read_only=False))
    await authz.create_role(role, "made to be undone")
    await authz.create_permission(permission, "")
    await authz.grant(role, permission)
    await authz.close()
    db.execute(f"create table public.{table} (id int)")
    audit = Audit(stack.runtime.postgres(read_only=False))
    await audit.track(f"public.{table}")
    await audit.close()
    db.execute("select set_config('request.jwt.claims', %s, false)",
               (json.dumps({"sub": user.id, "role": "authenticated"}),))
    db.execute(f"insert into public.{table} values (42)")
    db.execute("select set_config('request.jwt.claims', '', false)")
    session = db.execute("insert into auth.sessions (id, user_id, created_at, updated_at) "
                         "values (gen_random_uuid(), %s, now() + interval '1 hour', now()) "
                         "returning id::text", (user.id,)).fetchone()[0]  # type: ignore[index]
    email = f"undo{tag}@users.test"

    async def answer(text: str) -> None:
        await until(pilot, lambda: isinstance(app.screen, PromptModal))
        app.screen.query_one(Input).value = text
        await pilot.press("enter")

    app = CrestfallApp(stack.stack, stack.runtime)
    try:
        async with app.run_test(size=(160, 44)) as pilot:
            await open_users(pilot, app, email)
            await pilot.press("3")
            await until(pilot, lambda: role in on_screen(app))
            roles = app.screen.query_one("#access-roles", DataTable)
            roles.move_cursor(row=roles.get_row_index(role))
            roles.focus()

            await pilot.press("a")
            await answer(email)
            await until(pilot, lambda: db.execute(
                "select count(*) from authz.user_roles where role = %s",
                (role,)).fetchone() == (1,))
            # The list read again after the change keeps the cursor on the role.
            access = app.screen.query_one(AccessPane)
            await until(pilot, lambda: access.selected is not None
                        and (access.selected.name, access.selected.users) == (role, 1))
            await pilot.press("w")
            await answer(email)
            await until(pilot, lambda: isinstance(app.screen, TextModal))
            assert f"yes  {permission}" in app.screen.query_one(TextArea).text
            await pilot.press("escape")
            await pilot.press("U")
            await answer(email)
            await until(pilot, lambda: db.execute(
                "select count(*) from authz.user_roles where role = %s",
                (role,)).fetchone() == (0,))
            await pilot.press("v")
            await until(pilot, lambda: isinstance(app.screen, PickerModal))
            await pilot.press("enter")
            await until(pilot, lambda: db.execute(
                "select count(*) from authz.role_permissions where role = %s",
                (role,)).fetchone() == (0,))
            await pilot.press("T")
            await until(pilot, lambda: isinstance(app.screen, TextModal))
            assert "RLS" in app.screen.query_one(TextArea).text
            await pilot.press("escape")
            roles.move_cursor(row=roles.get_row_index(role))
            await pilot.press("X")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("y")
            await until(pilot, lambda: db.execute(
                "select count(*) from authz.roles where name = %s", (role,)).fetchone()
                == (0,))

            await pilot.press("4")
            pane = app.screen.query_one(AuditPane)
            await until(pilot, lambda: any(t.table == f"public.{table}" or t.table == table
                                           for t in pane.tables))
            tables = app.screen.query_one("#audit-tables", DataTable)
            tables.move_cursor(row=[t.table for t in pane.tables].index(
                next(t.table for t in pane.tables if t.table.endswith(table))))
            tables.focus()
            await until(pilot, lambda: [c.op for c in pane.changes] == ["INSERT"])
            app.screen.query_one("#audit-changes", DataTable).focus()
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TextModal))
            assert '"id": 42' in app.screen.query_one(TextArea).text
            await pilot.press("escape")
            await pilot.press("w")
            await answer(email)
            await until(pilot, lambda: pane.actor is not None and [
                c.actor for c in pane.changes] == [user.id])
            tables.focus()
            await pilot.press("U")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("y")
            await until(pilot, lambda: any(t.table.endswith(table) and not t.tracked
                                           for t in pane.tables))

            await pilot.press("2")
            sessions = app.screen.query_one(SessionsPane)
            await until(pilot, lambda: bool(sessions.shown)
                        and sessions.shown[0].id == session)
            app.screen.query_one("#sessions-table", DataTable).focus()
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("y")
            await until(pilot, lambda: db.execute(
                "select count(*) from auth.sessions where id = %s::uuid",
                (session,)).fetchone() == (0,))
    finally:
        db.execute(f"drop table public.{table}")
        db.execute("delete from authz.roles where name = %s", (role,))
        db.execute("delete from authz.permissions where name = %s", (permission,))


async def test_last_page_token_check_and_run_as_by_keys(stack: StackUnderTest) -> None:
    """G: the last users in this order, the cursor on the last, where it stays when the list
    is read again after a change (c); V: a pasted token signed
    with the stack's secret is accepted, one with another secret refused; a: Query runs
    as the selected user."""
    import jwt

    from crestfall_tui.modals import TextModal
    from crestfall_tui.screens import QueryScreen

    tag = uuid.uuid4().hex[:6]
    users = Users(stack.runtime.postgres(read_only=False))
    made = [await users.create(f"gva{tag}{n}@users.test", None) for n in range(3)]
    await users.close()
    now = int(__import__("time").time())
    claims = {"sub": made[0].id, "role": "authenticated", "aud": "authenticated",
              "iat": now, "exp": now + 600}
    good = jwt.encode(claims, stack.runtime.secrets.jwt_secret, algorithm="HS256")
    forged = jwt.encode(claims, "not the stack's secret at all, 32+ bytes", algorithm="HS256")
    app = CrestfallApp(stack.stack, stack.runtime)
    async with app.run_test(size=(160, 44)) as pilot:
        listed = await open_users(pilot, app, f"gva{tag}")
        table = listed.query_one(DataTable)
        table.focus()
        await until(pilot, lambda: len(listed.shown) == 3)
        await pilot.press("G")
        await until(pilot, lambda: table.cursor_row == len(listed.shown) - 1
                    and listed.shown[-1].id == made[-1].id)
        await pilot.press("c")  # confirmed, the list read again: the cursor stays on them
        await until(pilot, lambda: listed.shown[-1].email_confirmed_at is not None)
        assert listed.selected is not None and listed.selected.id == made[-1].id

        for token, verdict in ((good, "accepted by this stack"),
                               (forged, "REFUSED by this stack")):
            await pilot.press("V")
            await until(pilot, lambda: isinstance(app.screen, PromptModal))
            app.screen.query_one(Input).value = token
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TextModal))
            assert app.screen.query_one(TextArea).text.startswith(verdict)
            await pilot.press("escape")

        table.move_cursor(row=0)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, QueryScreen))
        run_as = app.studio.query_session.run_as
        assert run_as is not None and run_as.user_id == made[0].id
