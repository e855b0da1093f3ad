"""`balint-cme demo`: the whole job on the built-in 2020 series, into a folder of its own.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from balint_cme.commands import console
from balint_cme.demo import run_demo

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme demo`."""
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=Path("balint-cme-demo"),
        help="where to write the inputs, certificates and report (default: ./balint-cme-demo)",
    )


def run(args: argparse.Namespace) -> int:
    summary = run_demo(args.out, now=datetime.now(UTC))
    console.out(summary)
    return 0
