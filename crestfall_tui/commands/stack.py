"""`crestfall-tui stack up|down|status|restart`: the Stack section's headless twin."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crestfall_tui.commands import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from crestfall_tui.config import StackConfig
from crestfall_tui.stack import Progress, RuntimeChoice, StackStatus, choose_runtime
from crestfall_tui.stack.private_files import check_data_dir


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """`crestfall-tui stack ...` on the command line."""
    stack = commands.add_parser("stack", help="start, stop or check a stack without the studio")
    actions = stack.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("up", "start what is not running and wait until healthy"),
                       ("down", "stop every service; the data stays"),
                       ("status", "probe every service (exit 1 unless all installed are healthy)"),
                       ("restart", "stop and start one service"),
                       ("reset-secrets", "new passwords for a database whose secrets.json "
                                         "is lost (native, stack down; needs --yes)")):
        action = actions.add_parser(name, help=text, parents=[common])
        if name == "restart":
            action.add_argument("service", choices=("db", "rest", "search"))
        action.add_argument("--runtime", choices=("native", "docker"),
                            help="override the stack's configured runtime")
        if name == "up":
            action.add_argument("--exclude", action="append", default=[], metavar="SERVICE",
                                help="do not start this service (repeatable)")
        if name == "down":
            action.add_argument("--volumes", action="store_true",
                                help="also delete the stack's volumes (docker; needs --yes)")
            action.add_argument("--purge", action="store_true",
                                help="with --volumes: also delete what the data dir keeps "
                                     "(secrets, action log, query history, snippets)")
        if name in ("down", "reset-secrets"):
            action.add_argument("--yes", action="store_true",
                                help="confirm: --volumes deletes the data; reset-secrets "
                                     "changes every login's password and key")
        action.add_argument("--json", action="store_true", help="print the status as JSON")
        action.add_argument("--show-secrets", action="store_true",
                            help="print passwords and keys instead of ***")


def run(args: argparse.Namespace, stack: StackConfig) -> int:
    """`crestfall-tui stack up|down|status|restart`."""
    choice: RuntimeChoice = choose_runtime(stack, args.runtime)
    runtime = choice.runtime
    if runtime.manages_services:
        check_data_dir(stack.data_path)
    quiet = args.json
    if choice.note and not quiet:
        print(f"note: {choice.note}", file=sys.stderr)

    def show(step: Progress) -> None:
        if not quiet:
            print(f"{step.service:<7} {step.message}", file=sys.stderr, flush=True)

    if args.action == "reset-secrets":
        if not args.yes:
            print("crestfall-tui: reset-secrets gives every login role a new password and "
                  "signs new API keys; add --yes to confirm", file=sys.stderr)
            return EXIT_USAGE
        runtime.reset_secrets(show)
        status = runtime.status()
    elif args.action == "up":
        status = runtime.up(show, exclude=frozenset(args.exclude))
    elif args.action == "down":
        if args.volumes and not args.yes:
            print("crestfall-tui: down --volumes deletes the stack's data; add --yes to "
                  "confirm", file=sys.stderr)
            return EXIT_USAGE
        if args.purge and not args.volumes:
            print("crestfall-tui: --purge goes with --volumes --yes: the data dir's files "
                  "are deleted with the database they belong to", file=sys.stderr)
            return EXIT_USAGE
        status = runtime.down(show, volumes=args.volumes)
        if args.volumes:
            _after_volumes(stack, purge=args.purge, quiet=quiet)
    elif args.action == "restart":
        status = runtime.restart(args.service, show)
    else:
        status = runtime.status()
    if args.json:
        print(json.dumps(status.to_json(reveal=args.show_secrets), indent=2))
    else:
        print(format_status(status, reveal=args.show_secrets))
    if args.action in ("down", "reset-secrets"):
        return EXIT_OK
    return EXIT_OK if status.healthy else EXIT_FAILURE


def _after_volumes(stack: StackConfig, *, purge: bool, quiet: bool) -> None:
    """The database is gone: say what the data dir still holds, or delete it (--purge)."""
    from crestfall_tui.services.stack_files import leftovers
    from crestfall_tui.services.stack_files import purge as purge_files

    if purge:
        removed, left = purge_files(stack.data_path)
        if not quiet:
            print(f"purged {stack.data_path}: " + (", ".join(removed) or "nothing to remove")
                  + (f"; left alone (not crestfall-tui's): {', '.join(left)}" if left else ""),
                  file=sys.stderr)
        return
    kept = leftovers(stack.data_path)
    if kept and not quiet:
        print(f"note: {stack.data_path} still holds {'; '.join(kept)}. "
              "`stack down --volumes --yes --purge` deletes them too.", file=sys.stderr)


def format_status(status: StackStatus, *, reveal: bool) -> str:
    """A plain-text table of the stack's services."""
    lines = [f"stack {status.stack} ({status.runtime})"]
    for service in status.services:
        where = service.masked_url(reveal=reveal) if service.url else ""
        about = where if service.state.value in ("healthy", "starting") else service.detail
        lines.append(f"  {service.name:<7} {service.state.value:<14} {service.port:<6} "
                     f"{service.version or '-':<8} {about}")
    return "\n".join(lines)
