"""`balint-cme pars`: the ACCME PARS learner file for consenting physicians.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from balint_cme.commands import access, console, options
from balint_cme.outputs import (
    ExportedLearner,
    LeftOut,
    ParsDocument,
    dump,
)
from balint_cme.workflow import export_pars

__all__ = ["PARS_INCOMPLETE", "add_arguments", "run"]


PARS_INCOMPLETE = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme pars`."""
    parser.add_argument("series_files", metavar="SERIES_FILE", nargs="+")
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help=".txt/.tsv or .xlsx"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON (schema: pars); exit 3 when a consenting learner was left out",
    )
    parser.add_argument(
        "--activity-id",
        metavar="SERIES_ID=PARS_ID",
        action="append",
        default=[],
        type=options.pair,
        help="the activity's ID in PARS (repeat per series; default: the series id)",
    )
    parser.add_argument(
        "--columns", type=Path, metavar="FILE", help="a column map (default: the packaged one)"
    )
    options.ledger_option(parser)


def run(args: argparse.Namespace) -> int:
    activity_ids = dict(item.split("=", 1) for item in args.activity_id)
    with access.open_ledger(args, create=False) as ledger:
        export = export_pars(
            ledger,
            [Path(p) for p in args.series_files],
            args.out,
            columns=args.columns,
            activity_ids=activity_ids,
        )
    report = export.report
    left_out = [
        LeftOut(
            series_id=p.series_id,
            participant_id=p.participant_id,
            name=p.name,
            why="missing-data",
            detail=f"missing {', '.join(p.missing)}",
        )
        for p in report.missing
    ]
    left_out += [
        LeftOut(
            series_id=series_id,
            participant_id=participant_id,
            name=None,
            why="no-valid-certificate",
            detail=why,
        )
        for series_id, participant_id, why in export.uncertified
    ]
    # Learners without consent are never reported (that is the law, not a gap in the file):
    # listed, but the export is complete without them.
    complete = not left_out
    exit_code = 0 if complete else PARS_INCOMPLETE
    left_out += [
        LeftOut(
            series_id=series_id,
            participant_id=participant_id,
            name=None,
            why="no-consent",
            detail="no consent on record",
        )
        for series_id, participant_id in report.without_consent
    ]
    if args.json:
        document = ParsDocument(
            out=str(args.out),
            rows_written=len(report.learners),
            exported=[
                ExportedLearner(
                    series_id=learner.series_id,
                    activity_id=learner.activity_id,
                    participant_id=learner.participant_id,
                    credits=f"{learner.credits:.2f}",
                    completion_date=learner.completion_date,
                )
                for learner in report.learners
            ],
            left_out=left_out,
            complete=complete,
            exit_code=exit_code,
        )
        console.out(json_text=True, text=dump(document))
        return exit_code
    console.out(f"wrote {len(report.learners)} learner row(s) to {args.out}")
    for item in left_out:
        who = (
            f"{item.name} ({item.participant_id}, {item.series_id})"
            if item.name
            else (f"{item.participant_id} in {item.series_id}")
        )
        console.out(f"  not exported: {who}: {item.detail}")
    if not complete:
        print(
            f"balint-cme: {sum(1 for i in left_out if i.why != 'no-consent')} consenting "
            f"learner(s) left out (exit {PARS_INCOMPLETE}): complete what is missing and export "
            "again",
            file=sys.stderr,
        )
    return exit_code
