"""`balint-cme completion`: a shell completion script, made from the parser itself.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse

from balint_cme.commands import console
from balint_cme.commands.parser import build_parser
from balint_cme.completion import SHELLS, completion_script

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme completion`."""
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")


def run(args: argparse.Namespace) -> int:
    console.out(completion_script(build_parser(), args.shell).rstrip("\n"))
    return 0
