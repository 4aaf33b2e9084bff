"""Command line: parse, then open the studio or hand over to a section's headless twin."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from crestfall_tui import __version__
from crestfall_tui.commands import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, HeadlessTwin
from crestfall_tui.commands import cron as cron_twin
from crestfall_tui.commands import query as query_twin
from crestfall_tui.commands import stack as stack_twin
from crestfall_tui.commands import users as users_twin
from crestfall_tui.config import StackConfig, config_named, config_path, load_config
from crestfall_tui.errors import ConfigError, CrestfallError
from crestfall_tui.services.databases import remembered_database
from crestfall_tui.stack import choose_runtime

TWINS: dict[str, HeadlessTwin] = {"query": query_twin, "stack": stack_twin,
                                  "users": users_twin, "cron": cron_twin}
"""Each section's headless twin: `add_parser(commands, common)` and `run(args, stack)`."""


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", default="local", metavar="NAME",
                        help="the stack to use, as named in the config (default: local)")
    common.add_argument("--config", metavar="FILE",
                        help="config file (default: $CRESTFALL_CONFIG, else the platform's "
                             "config dir/crestfall/config.toml)")
    common.add_argument("--database", metavar="NAME",
                        help="the database to open (default: for the studio, the last one "
                             "chosen on this stack; then the stack's `database` setting; "
                             "then the one its URL names)")
    common.add_argument("--read-only", action="store_true",
                        help="open every database session read-only (as read_only = true "
                             "does): the session logs in as a role that cannot write")
    parser = argparse.ArgumentParser(
        prog="crestfall-tui", parents=[common],
        description="Terminal studio for the Crestfall stack: Postgres, PostgREST, Typesense.")
    parser.add_argument("--version", action="version", version=f"crestfall-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    for twin in TWINS.values():
        twin.add_parser(commands, _suppressed(common))
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
        config = load_config(config_path(args.config), required=config_named(args.config))
        stack = config.stack(args.stack)
        if args.read_only:
            stack = replace(stack, read_only=True)
        if args.database:
            stack = replace(stack, database=args.database)
        if args.command in TWINS:
            return TWINS[args.command].run(args, stack)
        if not args.database:
            stack = replace(stack, database=remembered_database(stack.data_path)
                            or stack.database)
        return run_studio(stack, config.keymap)
    except BrokenPipeError:
        # The reader went away (`| head -1`): stop quietly, as psql does. Python would
        # complain again when it flushes stdout at exit, so point stdout at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ConfigError as error:
        print(f"crestfall-tui: config error: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except CrestfallError as error:
        print(f"crestfall-tui: {error.title}: {error.message}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def run_studio(stack: StackConfig, keymap: dict[str, str]) -> int:
    """Open the studio on `stack`; it brings a local stack up itself, with progress."""
    choice = choose_runtime(stack)
    # The first probe runs while Textual loads; the Stack screen shows its answer.
    probing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="first-probe")
    first_status = probing.submit(choice.runtime.status)
    from crestfall_tui.app import CrestfallApp, check_keymap  # Textual: only for the studio

    try:
        check_keymap(keymap)
        CrestfallApp(stack=stack, runtime=choice.runtime, note=choice.note,
                     first_status=first_status, keymap=keymap).run()
    finally:
        probing.shutdown(wait=False, cancel_futures=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
