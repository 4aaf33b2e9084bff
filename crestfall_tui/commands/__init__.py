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
