"""`balint-cme schema`: the JSON Schema of the series file or of a command's --json output.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
import json

from balint_cme.commands import console
from balint_cme.io.series_file import series_schema
from balint_cme.outputs import (
    OUTPUT_SCHEMAS,
    output_schema,
)

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme schema`."""
    parser.add_argument(
        "--output",
        metavar="NAME",
        choices=["series", *OUTPUT_SCHEMAS],
        default="series",
        help="series (the series file, default) or the --json output of "
        + ", ".join(OUTPUT_SCHEMAS),
    )


def run(args: argparse.Namespace) -> int:
    schema = series_schema() if args.output == "series" else output_schema(args.output)
    console.out(json.dumps(schema, indent=2, ensure_ascii=False))
    return 0
