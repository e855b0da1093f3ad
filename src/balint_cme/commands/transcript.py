"""`balint-cme transcript`: a person's credit across series, against a target.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

from balint_cme.commands import access, console, options
from balint_cme.outputs import (
    TranscriptDocument,
    TranscriptSeries,
    dump,
)
from balint_cme.text import visible
from balint_cme.transcript import build_transcript
from balint_cme.workflow import (
    credit_on_record,
    transcript_history,
)

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme transcript`."""
    parser.add_argument("--person", required=True, metavar="PERSON", help=options.PERSON_HELP)
    parser.add_argument(
        "series_files",
        metavar="SERIES_FILE",
        nargs="*",
        help="limit to these series (default: every series in the ledger)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (schema: transcript)")
    parser.add_argument("--from", dest="from_on", metavar="DATE", type=options.iso_date)
    parser.add_argument("--to", dest="to_on", metavar="DATE", type=options.iso_date)
    parser.add_argument(
        "--target",
        type=options.credit_amount,
        default=Decimal(50),
        help="credit needed in the window (default 50: California, 16 CCR § 1336)",
    )
    options.ledger_option(parser)


def run(args: argparse.Namespace) -> int:
    if args.from_on and args.to_on and args.from_on > args.to_on:
        return console.fail(f"--from {args.from_on} is after --to {args.to_on}")
    with access.open_ledger(args, create=False) as ledger:
        person = ledger.resolve_person(args.person)
        history = transcript_history(ledger, person, [Path(p) for p in args.series_files])
        roster_ids = dict(person.roster_ids)
        # The same answer as the PARS export: only a current certificate of credit counts.
        on_record = {
            series.id: credit_on_record(ledger, series.id, roster_ids[series.id])
            for series, _ in history
        }
    transcript = build_transcript(
        person.person_id,
        history,
        from_on=args.from_on,
        to_on=args.to_on,
        target=args.target,
        roster_ids=roster_ids,
        on_record=on_record,
    )
    if args.json:
        document = TranscriptDocument(
            participant_id=transcript.participant_id,
            ledger_person=person.person_id,
            name=transcript.name,
            from_on=transcript.from_on,
            to_on=transcript.to_on,
            series=[
                TranscriptSeries(
                    series_id=line.series_id,
                    title=line.title,
                    accredited_provider=line.accredited_provider,
                    credits=f"{line.points:.2f}",
                    participation_hours=f"{line.participation_hours:.2f}",
                    session_dates=list(line.held_on),
                    notes=list(line.notes),
                )
                for line in transcript.lines
            ],
            total_credits=f"{transcript.total_points:.2f}",
            total_hours=f"{transcript.total_hours:.2f}",
            target=f"{transcript.target:.2f}",
            remaining=f"{transcript.remaining:.2f}",
            target_met=transcript.is_target_met,
        )
        console.out(json_text=True, text=dump(document))
        return 0
    window = f"{transcript.from_on or 'start'} to {transcript.to_on or 'now'}"
    console.out(visible(f"{transcript.name} (ledger person {person.describe()}): {window}"))
    for line in transcript.lines:
        dates = ", ".join(d.isoformat() for d in line.held_on)
        console.out(
            visible(
                f"  {line.title} ({line.series_id}), {line.accredited_provider}: "
                f"{line.points} credit, {line.participation_hours} h — {dates}"
            )
        )
        for note in line.notes:
            console.out(visible(f"    {note}"))
    console.out(
        f"total {transcript.total_points} credit of {transcript.target} needed; "
        + ("target met" if transcript.is_target_met else f"{transcript.remaining} still needed")
    )
    return 0
