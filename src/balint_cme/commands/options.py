"""Argument types and the options several subcommands share (--ledger, --by, --attendance...).

Light on purpose (the standard library, the domain records and errors): cli.py imports it to
build the parser for `--help` and `--version` without loading any edge.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from balint_cme.errors import DataFileError

if TYPE_CHECKING:
    from balint_cme.model import Series

__all__ = [
    "PERSON_HELP",
    "CommandParser",
    "Handler",
    "add_command",
    "attendance_options",
    "by_option",
    "checked_reports",
    "counts_option",
    "credit_amount",
    "instant",
    "iso_date",
    "ledger_option",
    "pair",
    "public_keys_option",
    "session_and_path",
    "zone_name",
]

PERSON_HELP = (
    "the person: ledger person id (P000001), SERIES:ROSTER_ID, NPI, e-mail, a roster id "
    "(when only one person uses it), or a name; an ambiguous match lists the candidates"
)

Handler = Callable[[argparse.Namespace], int]


def session_and_path(text: str) -> tuple[Path, int | None, str | None]:
    """'3=zoom.csv@UTC' → (zoom.csv, 3, "UTC"); 'zoom.csv' → (zoom.csv, None, None).

    The zone after the last '@' is the zone the file's times were written in (this file only);
    text after an '@' that is not an IANA zone stays part of the file name.
    """
    zone: str | None = None
    head, at, tail = text.rpartition("@")
    if at and head and _is_zone(tail):
        text, zone = head, tail
    match = re.fullmatch(r"(\d{1,3})=(.+)", text)
    if match:
        return Path(match[2]), int(match[1]), zone
    return Path(text), None, zone


def _is_zone(text: str) -> bool:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*", text):
        return False
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from None


def pair(text: str) -> str:
    if "=" not in text or not all(part.strip() for part in text.split("=", 1)):
        raise argparse.ArgumentTypeError(f"{text!r} is not SERIES_ID=PARS_ID")
    return text


def credit_amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0 or value % Decimal("0.25") != 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive multiple of 0.25")
    return value


def instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time like 2026-11-24 or 2026-11-24T18:45-08:00"
        ) from None
    return moment.astimezone(UTC)  # a time without an offset is this computer's local time


def zone_name(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IANA time zone such as America/Los_Angeles"
        ) from None
    return text


def checked_reports(
    series: Series, attendance: Sequence[str]
) -> list[tuple[Path, int | None, str | None]]:
    reports = [session_and_path(item) for item in attendance]
    for path, session, _zone_name in reports:
        if session is not None and series.session(session) is None:
            raise DataFileError(
                path,
                f"session {session} does not exist: {series.id} has {len(series.sessions)} sessions",
            )
    return reports


class CommandParser(argparse.ArgumentParser):
    """argparse with examples kept as written in --help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def add_command(
    commands: argparse._SubParsersAction[CommandParser],
    name: str,
    handler: Handler,
    summary: str,
    example: str,
) -> CommandParser:
    parser = commands.add_parser(
        name, help=summary, description=summary, epilog=f"example:\n  {example}"
    )
    parser.set_defaults(handler=handler)
    return parser


def attendance_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--attendance",
        metavar="[SESSION=]FILE[@ZONE]",
        action="extend",
        nargs="+",
        default=[],
        required=required,
        help="a downloaded attendance report (Zoom CSV/JSON, Teams, sign-in CSV); "
        "SESSION is the 1-based session number, found from the report's times when left out; "
        "ZONE is the time zone this file's times were written in (e.g. 3=zoom.csv@UTC), "
        "overriding --export-tz for this file",
    )
    parser.add_argument(
        "--export-tz",
        metavar="ZONE",
        type=zone_name,
        help="the time zone the reports' times were written in, for files without their own "
        "@ZONE (default: the series zone)",
    )


def ledger_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        metavar="FILE",
        type=Path,
        help="the ledger file (default: $BALINT_CME_LEDGER, else ledger.sqlite3 in the "
        "per-user data folder; `balint-cme paths` shows it)",
    )


def by_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by", metavar="NAME", help="who is acting, for the audit log (default: your login)"
    )


def public_keys_option(parser: argparse.ArgumentParser) -> None:
    """--key-file, repeatable: the keys a verifier checks with (verify, serve, publish)."""
    parser.set_defaults(key_files_repeat=True)  # a settings file's key_file becomes a list
    parser.add_argument(
        "--signing-cert",
        metavar="FILE",
        type=Path,
        action="append",
        help="the society's PDF-signing certificate (repeat for older ones): a signature by "
        "any other is not the society's (default: $BALINT_CME_SIGNING_CERT, else "
        "pdf-signing-cert.pem beside the key, if it exists)",
    )
    parser.add_argument(
        "--key-file",
        metavar="FILE",
        type=Path,
        action="append",
        help="the provider's key file (repeat for rotated keys, or name the key folder; "
        "default: the signing key and the keys rotated out beside it)",
    )


def counts_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--counts",
        metavar="FILE",
        type=Path,
        help="the verification counts file (default: the ledger's path + .verifications)",
    )
