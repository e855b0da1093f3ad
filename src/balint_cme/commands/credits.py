"""`balint-cme credits`: minutes and credit per person and session, from reports or the ledger.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from balint_cme.commands import access, console, options
from balint_cme.io.series_file import load_series
from balint_cme.ledger import Ledger, default_ledger_path
from balint_cme.workflow import (
    assess,
    assess_with_record,
    credits_document,
    format_credits_table,
    recorded_sessions,
)

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme credits`."""
    parser.add_argument("series_file", metavar="SERIES_FILE", type=Path)
    options.attendance_options(parser, required=False)
    parser.add_argument(
        "--from-ledger",
        action="store_true",
        help="count the attendance the ledger holds for this series (recorded by certify); "
        "a report given with --attendance replaces the record for its session",
    )
    options.ledger_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    series = load_series(args.series_file)
    reports = options.checked_reports(series, args.attendance)
    if args.from_ledger:
        path = Path(args.ledger) if args.ledger is not None else default_ledger_path()
        with Ledger.open(path, create=False) as ledger:
            reading, awards = assess_with_record(series, reports, ledger, export_tz=args.export_tz)
    elif not reports:
        # An all-zero table would look like a series nobody attended: say what is missing.
        on_record: tuple[int, ...] = ()
        existing = access.existing_ledger(args)
        if existing is not None:
            with existing as ledger:
                on_record = recorded_sessions(ledger, series)
        offer = (
            f"; the ledger holds attendance for session(s) {', '.join(map(str, on_record))} of "
            f"{series.id}: add --from-ledger to use it"
            if on_record
            else ""
        )
        return console.fail(f"no attendance given: pass --attendance [SESSION=]FILE ...{offer}")
    else:
        reading, awards = assess(series, reports, export_tz=args.export_tz)
    if args.json:
        document = credits_document(series, awards, reading)
        console.out(json.dumps(document, indent=2, ensure_ascii=False), json_text=True)
    else:
        console.out(format_credits_table(series, awards, reading))
    return 0
