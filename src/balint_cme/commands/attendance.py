"""`balint-cme attendance`: a person's verified participation across series.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from balint_cme.commands import access, console, options
from balint_cme.ledger import PersonRecord
from balint_cme.outputs import (
    AttendanceDocument,
    AttendedSession,
    CertificateState,
    Participation,
    dump,
)
from balint_cme.text import visible

__all__ = ["add_arguments", "run"]


def _attendance_document(
    query: str, person: PersonRecord, records: Sequence[Any]
) -> AttendanceDocument:
    return AttendanceDocument(
        person=query,
        ledger_person=person.person_id,
        participations=[
            Participation(
                series_id=r.series_id,
                title=r.title,
                participant_id=r.participant_id,
                name=r.name,
                credentials=r.credentials,
                credits=console.two_places(r.points),
                participation_hours=console.two_places(r.participation_hours),
                sessions=[
                    AttendedSession(
                        session=s.session,
                        held_on=s.held_on,
                        attended_seconds=s.attended_seconds,
                        minutes=f"{s.minutes:.2f}",
                        credit=f"{s.credit:.2f}",
                        hours=f"{s.hours:.2f}",
                        reason=s.reason,
                        files=sorted({str(src.get("file")) for src in s.sources}),
                    )
                    for s in r.sessions
                ],
                certificates=[
                    CertificateState(
                        number=c.number, version=c.version, state=c.state, issued_on=c.issued_on
                    )
                    for c in r.certificates
                ],
            )
            for r in records
        ],
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme attendance`."""
    parser.add_argument("--person", required=True, metavar="PERSON", help=options.PERSON_HELP)
    parser.add_argument("--json", action="store_true", help="print JSON (schema: attendance)")
    options.ledger_option(parser)


def run(args: argparse.Namespace) -> int:
    with access.open_ledger(args, create=False) as ledger:
        person = ledger.resolve_person(args.person)
        records = ledger.attendance_of(person.person_id)
    if not records:
        return console.fail(f"no participation on record for {args.person!r}")
    if args.json:
        console.out(json_text=True, text=dump(_attendance_document(args.person, person, records)))
        return 0
    console.out(f"ledger person {person.describe()}")
    for record in records:
        amount = "" if record.points is None else f", {record.points} credit"
        hours = "" if record.participation_hours is None else f", {record.participation_hours} h"
        console.out(
            visible(
                f"{record.name} ({record.participant_id}, {record.credentials}): {record.title} "
                f"({record.series_id}){amount}{hours}"
            )
        )
        for session in record.sessions:
            files = ", ".join(sorted({str(s.get("file")) for s in session.sources})) or "no report"
            console.out(
                visible(
                    f"  session {session.session} {session.held_on}: {session.minutes} min, "
                    f"credit {session.credit}, hours {session.hours} (from {files})"
                )
            )
        for certificate in record.certificates:
            console.out(
                f"  certificate {certificate.number} v{certificate.version}: {certificate.state}, "
                f"issued {certificate.issued_on}"
            )
    return 0
