"""The headless twins of the sections (`crestfall-tui <section> <verb> ... [--json]`), one
module each, built on the same services as the screens. No Textual here.

Every twin shares the exit codes: 0 ok, 1 a failed operation, 2 bad usage or config.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from crestfall_tui.config import StackConfig

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class HeadlessTwin(Protocol):
    """What a section's twin module offers the command line."""

    def add_parser(self, commands: Any, common: argparse.ArgumentParser) -> None:
        """Add `crestfall-tui <section> ...` to the subcommands."""

    def run(self, args: argparse.Namespace, stack: StackConfig) -> int:
        """Carry out the parsed command on `stack`; the exit code."""


def verb_maker(section: Any, dest: str, subject: str, subject_help: str,
               common: argparse.ArgumentParser) -> Any:
    """The `add(name, text, *, subject=True)` a twin declares its verbs with: each verb
    takes the section's common options and `--json`, and (unless `subject=False`) the
    thing it acts on as its first argument."""
    verbs = section.add_subparsers(dest=dest, metavar="VERB", required=True)

    def add(name: str, text: str, *, subject_too: bool = True) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = verbs.add_parser(name, help=text, parents=[common])
        if subject_too:
            parser.add_argument(subject, help=subject_help)
        parser.add_argument("--json", action="store_true", help="print JSON")
        return parser

    return add
