"""Command line: the studio, and headless `stack` commands for scripts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from crestfall_tui import __version__
from crestfall_tui.config import StackConfig, config_named, config_path, load_config
from crestfall_tui.errors import ConfigError, CrestfallError
from crestfall_tui.stack import Progress, RuntimeChoice, StackStatus, choose_runtime
from crestfall_tui.stack.private_files import check_data_dir

EXIT_FAILURE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", default="local", metavar="NAME",
                        help="the stack to use, as named in the config (default: local)")
    common.add_argument("--config", metavar="FILE",
                        help="config file (default: $CRESTFALL_CONFIG, else the platform's "
                             "config dir/crestfall/config.toml)")
    common.add_argument("--read-only", action="store_true",
                        help="open every database session read-only (as read_only = true "
                             "does): the session logs in as a role that cannot write")
    parser = argparse.ArgumentParser(
        prog="crestfall-tui", parents=[common],
        description="Terminal studio for the Crestfall stack: Postgres, PostgREST, Typesense.")
    parser.add_argument("--version", action="version", version=f"crestfall-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    query = commands.add_parser("query", parents=[_suppressed(common)],
                                help="run SQL and stream the results to stdout")
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument("-c", "--command", dest="sql", metavar="SQL", help="the SQL to run")
    source.add_argument("-f", "--file", metavar="FILE", help="a file of SQL (- for stdin)")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table",
                       help="table (default), csv (with a header) or json (one object a row)")

    stack = commands.add_parser("stack", help="start, stop or check a stack without the studio")
    actions = stack.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("up", "start what is not running and wait until healthy"),
                       ("down", "stop every service; the data stays"),
                       ("status", "probe every service (exit 1 unless all installed are healthy)"),
                       ("restart", "stop and start one service")):
        action = actions.add_parser(name, help=text, parents=[_suppressed(common)])
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
            action.add_argument("--yes", action="store_true",
                                help="confirm --volumes: the data is deleted")
        action.add_argument("--json", action="store_true", help="print the status as JSON")
        action.add_argument("--show-secrets", action="store_true",
                            help="print passwords and keys instead of ***")
    return parser


def _suppressed(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The common options again, without defaults that would hide the ones given earlier."""
    again = argparse.ArgumentParser(add_help=False)
    for option in common._actions:
        if option.nargs == 0:  # a flag
            again.add_argument(*option.option_strings, action="store_true",
                               default=argparse.SUPPRESS, help=option.help)
        else:
            again.add_argument(*option.option_strings, default=argparse.SUPPRESS,
                               metavar=option.metavar, help=option.help)
    return again


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `crestfall-tui` command."""
    args = build_parser().parse_args(argv)
    # Everything crestfall-tui and its servers write (data, logs, history, exports) is the
    # owner's alone.
    os.umask(0o077)
    try:
        stack = load_config(config_path(args.config),
                            required=config_named(args.config)).stack(args.stack)
        if args.read_only:
            stack = replace(stack, read_only=True)
        if args.command == "stack":
            return run_stack_command(args, stack)
        if args.command == "query":
            return run_query_command(args, stack)
        return run_studio(stack)
    except BrokenPipeError:
        # The reader went away (`| head -1`): stop quietly, as psql does. Python would
        # complain again when it flushes stdout at exit, so point stdout at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ConfigError as error:
        print(f"crestfall-tui: config error: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except CrestfallError as error:
        print(f"crestfall-tui: {error.title}: {error.message}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def run_studio(stack: StackConfig) -> int:
    """Open the studio on `stack`; it brings a local stack up itself, with progress."""
    choice = choose_runtime(stack)
    # The first probe runs while Textual loads; the Stack screen shows its answer.
    probing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="first-probe")
    first_status = probing.submit(choice.runtime.status)
    from crestfall_tui.app import CrestfallApp  # Textual loads only for the studio

    try:
        CrestfallApp(stack=stack, runtime=choice.runtime, note=choice.note,
                     first_status=first_status).run()
    finally:
        probing.shutdown(wait=False, cancel_futures=True)
    return 0


def run_query_command(args: argparse.Namespace, stack: StackConfig) -> int:
    """`crestfall-tui query`: exit 1 on an SQL error, as psql -v ON_ERROR_STOP=1 does."""
    import asyncio

    from crestfall_tui.query_command import ScriptError, run_query, script_chunks

    runtime = choose_runtime(stack).runtime
    try:
        return asyncio.run(run_query(runtime.postgres(read_only=stack.read_only),
                                     script_chunks(args.sql, args.file), args.format,
                                     sys.stdout, sys.stderr))
    except ScriptError as error:
        print(f"crestfall-tui: {error.message}", file=sys.stderr)
        return EXIT_USAGE


def run_stack_command(args: argparse.Namespace, stack: StackConfig) -> int:
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

    if args.action == "up":
        status = runtime.up(show, exclude=frozenset(args.exclude))
    elif args.action == "down":
        if args.volumes and not args.yes:
            print("crestfall-tui: down --volumes deletes the stack's data; add --yes to "
                  "confirm", file=sys.stderr)
            return EXIT_USAGE
        status = runtime.down(show, volumes=args.volumes)
    elif args.action == "restart":
        status = runtime.restart(args.service, show)
    else:
        status = runtime.status()
    if args.json:
        print(json.dumps(status.to_json(reveal=args.show_secrets), indent=2))
    else:
        print(format_status(status, reveal=args.show_secrets))
    if args.action == "down":
        return 0
    return 0 if status.healthy else EXIT_FAILURE


def format_status(status: StackStatus, *, reveal: bool) -> str:
    """A plain-text table of the stack's services."""
    lines = [f"stack {status.stack} ({status.runtime})"]
    for service in status.services:
        where = service.masked_url(reveal=reveal) if service.url else ""
        about = where if service.state.value in ("healthy", "starting") else service.detail
        lines.append(f"  {service.name:<7} {service.state.value:<14} {service.port:<6} "
                     f"{service.version or '-':<8} {about}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
