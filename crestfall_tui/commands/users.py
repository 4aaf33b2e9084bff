"""`crestfall-tui users ...`: auth users and sessions from the command line, for scripts and
on-call runbooks (the Users section's headless twin). Every verb prints a line for people,
or JSON with `--json`; a missing user, a bad duration or a duplicate email is one line on
stderr and exit 1."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crestfall_tui.commands import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, verb_maker
from crestfall_tui.config import StackConfig
from crestfall_tui.errors import CrestfallError
from crestfall_tui.services.auth_tokens import check_token, describe, mint_token
from crestfall_tui.services.units import parse_duration
from crestfall_tui.services.users import SORTS, AuthUser, Users, metadata_diff


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """`crestfall-tui users <verb> ...` on the command line."""
    users = commands.add_parser("users", help="auth users and sessions (list, create, ban, "
                                              "lock out, ...)")
    verb = verb_maker(users, "verb", "user", "the user's email or id", common)

    listing = verb("list", "users in order of creation", subject_too=False)
    listing.add_argument("--search", default="", help="an id, or the start of an email or "
                                                      "phone")
    listing.add_argument("--filter", action="append", default=[], metavar="NAME",
                         help="confirmed, unconfirmed, anonymous, banned, deleted, sso or "
                              "provider:NAME (repeatable)")
    listing.add_argument("--sort", choices=tuple(SORTS), default="created",
                         help="created (oldest first), last_sign_in (latest first), email "
                              "or phone")
    listing.add_argument("--contains", action="store_true",
                         help="--search anywhere in the email or phone (reads every row)")
    listing.add_argument("--count", choices=("estimate", "exact"),
                         help="print how many users match instead: the planner's estimate "
                              "(instant) or counted")
    listing.add_argument("--limit", type=int, default=50)
    create = verb("create", "a user with an email or a phone (and a password read from "
                            "stdin)",
                  subject_too=False)
    address = create.add_mutually_exclusive_group(required=True)
    address.add_argument("--email")
    address.add_argument("--phone", help="a phone user (as +15551234567)")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input (never an argument)")
    create.add_argument("--confirmed", action="store_true", help="the email is confirmed")
    verb("password", "a new password, read from standard input (never an argument)")
    verb("confirm", "mark the user's email confirmed")
    ban = verb("ban", "refuse the user's sign-ins for a while (sessions stay: see lockout)")
    ban.add_argument("--for", dest="duration", required=True, metavar="DURATION",
                     help="30m, 24h, 7d, ...")
    verb("unban", "let the user sign in again")
    delete = verb("delete", "delete the user (asks for --yes)")
    delete.add_argument("--soft", action="store_true",
                        help="as GoTrue's soft delete: the row stays, nothing identifies them")
    delete.add_argument("--yes", action="store_true", help="confirm")
    delete.add_argument("--dry-run", action="store_true",
                        help="only say which rows point at the user, and which would block "
                             "the delete or go with it")
    verb("sessions", "the user's sessions")
    revoke = verb("revoke", "end the user's sessions (or one) and their refresh tokens")
    revoke.add_argument("--session", metavar="ID")
    lockout = verb("lockout", "ban the user and end every session and refresh token, in one "
                              "transaction")
    lockout.add_argument("--for", dest="duration", default="36500d", metavar="DURATION")
    token = verb("token", "an access token for the user, signed with the stack's secret")
    token.add_argument("--ttl", default="1h", metavar="DURATION")
    metadata = verb("metadata", "replace the user's app or user metadata with a JSON object "
                                "read from standard input; prints the change as a diff")
    metadata.add_argument("--app", dest="which", action="store_const", const="app",
                          default="user", help="the app metadata (default: user metadata)")
    verb("verify-token", "decode a token read from standard input and check it against the "
                         "stack (signature, expiry, claims); exit 1 when refused",
         subject_too=False)
    anomalies = verb("anomalies", "users with many sessions, sessions not refreshed for long",
                     subject_too=False)
    anomalies.add_argument("--sessions", type=int, default=5, metavar="N",
                           help="flag users with more than N sessions (5)")
    anomalies.add_argument("--stale", default="30d", metavar="DURATION",
                           help="flag sessions not refreshed for this long (30d)")


def run(args: argparse.Namespace, stack: StackConfig) -> int:
    """Carry out one verb; exit 1 on a failed operation (raised as a CrestfallError)."""
    import asyncio

    from crestfall_tui.stack import choose_runtime

    runtime = choose_runtime(stack).runtime
    users = Users(runtime.postgres(read_only=stack.read_only))
    if args.verb == "delete" and not args.yes and not args.dry_run:
        print("crestfall-tui: users delete removes the user; add --yes to confirm",
              file=sys.stderr)
        return EXIT_USAGE
    reads_password = args.verb == "password" or (args.verb == "create" and args.password_stdin)
    if reads_password and sys.stdin.isatty():
        print("crestfall-tui: the password is read from a pipe (standard input), never typed "
              "as an argument", file=sys.stderr)
        return EXIT_USAGE
    if args.verb == "verify-token":
        check = check_token(sys.stdin.read(), _secret(runtime))
        print(json.dumps(check.to_json(), indent=2) if args.json else describe(check))
        return EXIT_OK if check.accepted else EXIT_FAILURE
    result = asyncio.run(_carry_out(users, args, runtime))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(_for_people(args.verb, result))
    return EXIT_OK


async def _carry_out(users: Users, args: argparse.Namespace, runtime: Any) -> Any:
    try:
        return await _verb(users, args, runtime)
    finally:
        await users.close()


async def _verb(users: Users, args: argparse.Namespace, runtime: Any) -> Any:
    verb = args.verb
    if verb == "list" and args.count:
        counted = await users.count(args.search, filters=tuple(args.filter),
                                    contains=args.contains, exact=args.count == "exact")
        return {"users": counted.rows, "exact": counted.exact}
    if verb == "list":
        return [user.to_json() for user in await users.page(
            args.search, filters=tuple(args.filter), sort=args.sort, contains=args.contains,
            limit=args.limit)]
    if verb == "metadata":
        return (await users.set_metadata(args.user, args.which, sys.stdin.read())).to_json()
    if verb == "anomalies":
        return (await users.anomalies(max_sessions=args.sessions,
                                      stale=parse_duration(args.stale))).to_json()
    if verb == "create":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
        return (await users.create(args.email, password or None, confirmed=args.confirmed,
                                   phone=args.phone)).to_json()
    if verb == "password":
        return (await users.set_password(args.user, sys.stdin.readline().rstrip("\n"))).to_json()
    if verb == "confirm":
        return (await users.confirm(args.user)).to_json()
    if verb == "ban":
        return (await users.ban(args.user, parse_duration(args.duration))).to_json()
    if verb == "unban":
        return (await users.unban(args.user)).to_json()
    if verb == "delete" and args.dry_run:
        return [reference.to_json() for reference in await users.references(args.user)]
    if verb == "delete":
        return (await users.delete(args.user, soft=args.soft)).to_json()
    if verb == "sessions":
        return [session.to_json() for session in await users.sessions(args.user)]
    if verb == "revoke":
        return {"sessions_ended": await users.revoke(args.user, args.session)}
    if verb == "lockout":
        return (await users.lockout(args.user, parse_duration(args.duration))).to_json()
    user: AuthUser = await users.find(args.user)
    ttl = parse_duration(args.ttl)
    return {"user": user.id, "expires_in": int(ttl.total_seconds()),
            "access_token": mint_token(user.id, user.email, runtime.secrets.jwt_secret, ttl,
                                       anonymous=user.is_anonymous)}


def _secret(runtime: Any) -> str | None:
    try:
        return str(runtime.secrets.jwt_secret)
    except CrestfallError:
        return None


def _for_people(verb: str, result: Any) -> str:
    if verb == "list" and isinstance(result, dict):
        return f"{'' if result['exact'] else '~'}{result['users']:,} users"
    if verb == "metadata":
        return "\n".join(metadata_diff(result["before"], result["after"])) or "no change"
    if verb == "anomalies":
        return "\n".join(
            [f"{u['user'] or u['user_id']}: {u['sessions']} sessions"
             for u in result["users_with_many_sessions"]]
            + [f"session {s['session']} of {s['user'] or s['user_id']}: last refreshed "
               f"{s['last_refreshed']}" for s in result["stale_sessions"]]) \
            or "no anomalies"
    if verb == "list":
        return "\n".join(f"{u['id']}  {u['email'] or u['phone'] or '-'}  {u['created_at']}"
                         + ("  banned" if u["banned_until"] else "")
                         + ("  deleted" if u["deleted_at"] else "") for u in result) \
            or "no users"
    if verb == "sessions":
        return "\n".join(f"{s['id']}  created {s['created_at']}  refreshed "
                         f"{s['refreshed_at'] or '-'}  {s['refresh_tokens']} refresh token(s)"
                         for s in result) or "no sessions"
    if verb == "revoke":
        return f"ended {result['sessions_ended']} session(s)"
    if verb == "delete" and isinstance(result, list):
        return "\n".join(f"{r['table']} ({r['columns']}): {r['rows']} row(s), on delete "
                          f"{r['on_delete']}" + ("  BLOCKS the delete" if r["blocks"] else "")
                          for r in result if r["rows"]) or "nothing points at this user"
    if verb == "lockout":
        return (f"locked out {result['user']['email'] or result['user']['id']}: ended "
                f"{result['sessions_ended']} session(s) and "
                f"{result['refresh_tokens_revoked']} refresh token(s); access tokens issued "
                f"before stay valid until {result['complete_at']}")
    if verb == "token":
        return str(result["access_token"])
    return f"{verb}: {result['email'] or result['id']}" + (
        f" (banned until {result['banned_until']})" if result.get("banned_until") else "")
