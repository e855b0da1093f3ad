"""`balint-cme check`: validate a series file and explain every problem.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from balint_cme.certificates.formatting import credit_phrase
from balint_cme.commands import console
from balint_cme.errors import DataFileError
from balint_cme.io.series_file import load_series
from balint_cme.model import facilitator_links

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme check`."""
    parser.add_argument("series_file", metavar="SERIES_FILE", type=Path)


def run(args: argparse.Namespace) -> int:
    try:
        series = load_series(args.series_file)
    except DataFileError as err:
        for problem in err.problems:
            console.err(problem)
        console.err(f"balint-cme: {len(err.problems)} problem(s) in {err.path}")
        return 1
    dated = len(series.dated_sessions)
    console.out(
        f"{args.series_file}: ok — {series.title} ({series.id}), {len(series.sessions)} session(s)"
        f" ({dated} dated), {len(series.participants)} participant(s), "
        f"maximum {series.credit.series_maximum:.2f} {credit_phrase(series.credit.type, plural=None)}"
    )
    for link in facilitator_links(series):
        console.out(f"  {link.describe()}")
    return 0
