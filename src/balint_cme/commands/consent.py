"""`balint-cme consent`: record or withdraw a participant's consent to ACCME PARS reporting.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from balint_cme.commands import access, console, options
from balint_cme.ledger import PersonRecord

__all__ = ["add_arguments", "run"]


def _who(person: PersonRecord) -> str:
    """ "ledger person P000001 (ssvms-balint-2020:p01)": ids only, no personal data."""
    where = ", ".join(f"{series}:{roster}" for series, roster in person.roster_ids)
    return f"ledger person {person.person_id}" + (f" ({where})" if where else "")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme consent`."""
    parser.add_argument(
        "--person",
        required=True,
        metavar="PERSON",
        help="as for attendance, but never by name (consent is a person's own)",
    )
    parser.add_argument("--wording", default="v1", help="version of the consent wording agreed to")
    parser.add_argument(
        "--given-at",
        type=options.instant,
        metavar="ISO_TIME",
        help="when consent was given (default: now)",
    )
    parser.add_argument("--withdraw", action="store_true")
    options.ledger_option(parser)
    options.by_option(parser)


def run(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    if args.given_at is not None and args.given_at > now:
        return console.fail(f"--given-at {args.given_at:%Y-%m-%d %H:%M} UTC is in the future")
    with access.open_ledger(args, create=False) as ledger:
        # Consent is a person's own: never matched by name, and an ambiguous id is an error.
        person = ledger.resolve_person(args.person, by_name=False)
        if args.withdraw:
            record = ledger.withdraw_consent(
                person.person_id, withdrawn_at=now, actor=access.actor(args)
            )
            console.out(f"consent withdrawn for {_who(person)}")
        else:
            given = args.given_at or now
            record = ledger.record_consent(
                person.person_id,
                wording_version=args.wording,
                given_at=given,
                actor=access.actor(args),
            )
            console.out(
                f"consent recorded for {_who(person)} (wording {record.wording_version}, "
                f"{record.given_at:%Y-%m-%d})"
            )
    return 0
