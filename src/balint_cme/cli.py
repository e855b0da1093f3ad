"""The balint-cme command: argparse front end over the library.

Each subcommand loads its inputs, calls the library, writes or prints, and returns an exit
code. User mistakes (a missing file, a bad series file, an unreadable report) print one line on
stderr and exit 1; usage errors exit 2; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import getpass
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from balint_cme import __version__, places
from balint_cme.certificates import signing as pdf_signing
from balint_cme.certificates.formatting import credit_phrase
from balint_cme.certificates.keys import (
    KeyRing,
    SigningKey,
    default_key_path,
    load_key,
    load_key_folder,
    load_key_ring,
    load_or_create_default_key,
    retired_key,
)
from balint_cme.certificates.layout import DEFAULT_LAYOUT
from balint_cme.certificates.signature_check import SignatureInfo
from balint_cme.certificates.verification import (
    CertificateClaims,
    VerificationResult,
    VerificationStatus,
)
from balint_cme.commitment import plan_follow_ups
from balint_cme.completion import SHELLS, completion_script
from balint_cme.credit import build_transcript
from balint_cme.demo import run_demo
from balint_cme.errors import BalintCmeError, DataFileError
from balint_cme.io.ics import format_ics
from balint_cme.io.reports import read_reports
from balint_cme.io.series_file import load_series, series_schema
from balint_cme.io.settings_file import Settings, find_settings, load_settings, user_settings_file
from balint_cme.ledger import Ledger, PersonRecord, default_ledger_path
from balint_cme.ledger.chain import parse_anchor
from balint_cme.model import Series, facilitator_links
from balint_cme.outputs import (
    OUTPUT_SCHEMAS,
    AttendanceDocument,
    AttendedSession,
    CertificateIssued,
    CertificateState,
    CertifyDocument,
    ExportedLearner,
    LeftOut,
    NoCertificate,
    ParsDocument,
    Participation,
    TranscriptDocument,
    TranscriptSeries,
    dump,
    output_schema,
)
from balint_cme.storage import write_atomically
from balint_cme.text import visible
from balint_cme.workflow import (
    CertifyResult,
    assess,
    assess_with_record,
    certify,
    check_certify,
    credit_on_record,
    credits_document,
    export_pars,
    format_credits_table,
    format_unmatched,
    load_layout,
    recorded_sessions,
    transcript_history,
    verify_certificate,
)

__all__ = ["main"]

_PERSON_HELP = (
    "the person: ledger person id (P000001), SERIES:ROSTER_ID, NPI, e-mail, a roster id "
    "(when only one person uses it), or a name; an ambiguous match lists the candidates"
)

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse with examples kept as written in --help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def _out(text: str = "", *, stream: TextIO | None = None, json_text: bool = False) -> None:
    """Print `text` (lines split at "\n"); every other control or bidi character a name or
    value from a file may carry is shown escaped (text.visible), never sent to the terminal.
    Values that could hold a line break are escaped where they are formatted."""
    lines = (visible(line, json_escapes=json_text) for line in text.split("\n"))
    print("\n".join(lines), file=stream or sys.stdout)


def _err(text: str) -> None:
    """One line on stderr, as _out() shows it."""
    _out(" ".join(text.split()), stream=sys.stderr)


def _fail(message: str) -> int:
    # A message quoting file content stays one line, and its control characters visible.
    _err(f"balint-cme: error: {message}")
    return 1


# ---------------------------------------------------------------------------------------------
# Shared argument handling


def _session_and_path(text: str) -> tuple[Path, int | None, str | None]:
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
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415 - only for this check

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*", text):
        return False
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from None


def _pair(text: str) -> str:
    if "=" not in text or not all(part.strip() for part in text.split("=", 1)):
        raise argparse.ArgumentTypeError(f"{text!r} is not SERIES_ID=PARS_ID")
    return text


def _credit_amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0 or value % Decimal("0.25") != 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive multiple of 0.25")
    return value


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time like 2026-11-24 or 2026-11-24T18:45-08:00"
        ) from None
    return moment.astimezone(UTC)  # a time without an offset is this computer's local time


def _zone(text: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415 - only for this check

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IANA time zone such as America/Los_Angeles"
        ) from None
    return text


def _anchor(text: str) -> str:
    try:
        seq, digest = parse_anchor(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return f"{seq}:{digest}"


def _checked_reports(
    series: Series, attendance: Sequence[str]
) -> list[tuple[Path, int | None, str | None]]:
    reports = [_session_and_path(item) for item in attendance]
    for path, session, _zone_name in reports:
        if session is not None and series.session(session) is None:
            raise DataFileError(
                path,
                f"session {session} does not exist: {series.id} has {len(series.sessions)} sessions",
            )
    return reports


# ---------------------------------------------------------------------------------------------
# Subcommands


def _cmd_check(args: argparse.Namespace) -> int:
    try:
        series = load_series(args.series_file)
    except DataFileError as err:
        for problem in err.problems:
            _err(problem)
        _err(f"balint-cme: {len(err.problems)} problem(s) in {err.path}")
        return 1
    dated = len(series.dated_sessions)
    _out(
        f"{args.series_file}: ok — {series.title} ({series.id}), {len(series.sessions)} session(s)"
        f" ({dated} dated), {len(series.participants)} participant(s), "
        f"maximum {series.credit.series_maximum:.2f} {credit_phrase(series.credit.type, plural=None)}"
    )
    for link in facilitator_links(series):
        _out(f"  {link.describe()}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    schema = series_schema() if args.output == "series" else output_schema(args.output)
    _out(json.dumps(schema, indent=2, ensure_ascii=False))
    return 0


def _cmd_schedule(args: argparse.Namespace) -> int:
    series = load_series(args.series_file)
    # Made first, so a calendar that cannot be made is refused before anything is printed.
    calendar = format_ics(series, generated_at=datetime.now(UTC)) if args.ics else None
    _out(f"{series.title} ({series.id}) — times in {series.timezone}")
    for session in series.sessions:
        start = series.local_start(session)
        if start is None:
            _out(f"  {session.number}. date to be announced ({session.duration_minutes} min)")
            continue
        finish = series.local_end(session)
        assert finish is not None
        _out(
            f"  {session.number}. {start:%a %Y-%m-%d %I:%M %p} - {finish:%I:%M %p %Z}, {session.credit} credit"
        )
    if series.schedule_note:
        _out(f"  note: {series.schedule_note}")
    if args.ics and calendar is not None:
        try:
            write_atomically(Path(args.ics), calendar)
        except OSError as err:
            reason = f"cannot write the calendar: {err.strerror or err}"
            raise DataFileError(args.ics, reason) from err
        _out(f"wrote {args.ics} ({len(series.dated_sessions)} event(s))")
    return 0


def _cmd_credits(args: argparse.Namespace) -> int:
    series = load_series(args.series_file)
    reports = _checked_reports(series, args.attendance)
    if args.from_ledger:
        path = Path(args.ledger) if args.ledger is not None else default_ledger_path()
        with Ledger.open(path, create=False) as ledger:
            reading, awards = assess_with_record(series, reports, ledger, export_tz=args.export_tz)
    elif not reports:
        # An all-zero table would look like a series nobody attended: say what is missing.
        on_record: tuple[int, ...] = ()
        existing = _existing_ledger(args)
        if existing is not None:
            with existing as ledger:
                on_record = recorded_sessions(ledger, series)
        offer = (
            f"; the ledger holds attendance for session(s) {', '.join(map(str, on_record))} of "
            f"{series.id}: add --from-ledger to use it"
            if on_record
            else ""
        )
        return _fail(f"no attendance given: pass --attendance [SESSION=]FILE ...{offer}")
    else:
        reading, awards = assess(series, reports, export_tz=args.export_tz)
    if args.json:
        document = credits_document(series, awards, reading)
        _out(json.dumps(document, indent=2, ensure_ascii=False), json_text=True)
    else:
        _out(format_credits_table(series, awards, reading))
    return 0


def _cmd_commitments(args: argparse.Namespace) -> int:
    series = load_series(args.series_file)
    reading, awards = assess(
        series, _checked_reports(series, args.attendance), export_tz=args.export_tz
    )
    held = {s.session for s in reading.sources if s.session is not None}
    held |= {record.session for record in reading.records}
    follow_ups = plan_follow_ups(series, awards, held)
    not_yet = [s.number for s in series.dated_sessions if s.number not in held]
    if args.json:
        document = {
            "version": 1,
            "series": series.id,
            "members_commit_to_all_sessions": series.members_commit_to_all_sessions,
            "sessions_with_attendance": sorted(held),
            "sessions_without_report": not_yet,
            "follow_ups": [f.model_dump(mode="json") for f in follow_ups],
        }
        _out(json.dumps(document, indent=2, ensure_ascii=False), json_text=True)
        return 0
    promise = (
        "members commit to every session"
        if series.members_commit_to_all_sessions
        else "this series does not ask members to commit to every session"
    )
    _out(f"{series.title} ({series.id}): {promise}")
    if not_yet:
        _out(f"no report yet for session(s) {', '.join(map(str, not_yet))}: not counted")
    for follow_up in follow_ups:
        parts = [
            f"#{a.session} {a.held_on.isoformat()} "
            + (
                "missed"
                if a.status == "missed"
                else f"partial, {a.attended_seconds // 60} of {a.session_seconds // 60} min"
            )
            for a in follow_up.absences
        ]
        contact = f" <{follow_up.email}>" if follow_up.email else ""
        _out(f"  {follow_up.name}{contact}: {'; '.join(parts)}")
    if not follow_ups:
        _out("  everyone attended every session with a report")
    return 0


# ---------------------------------------------------------------------------------------------
# Certificates, verification and the ledger


def _actor(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (e.g. a container without a passwd entry)
        return "balint-cme"


@contextlib.contextmanager
def _open_ledger(args: argparse.Namespace, *, create: bool = True) -> Iterator[Ledger]:
    """The ledger, for one command. If the command changed it, its new anchor is printed on
    stderr afterwards (`ledger anchor: SEQ:HASH`): kept elsewhere, `balint-cme ledger check
    --anchor SEQ:HASH` later proves events 1..SEQ were not rewritten."""
    with Ledger.open(args.ledger, create=create) as ledger:
        for note in ledger.upgrade_notes:  # what upgrading a file from an older version changed
            _err(f"balint-cme: ledger upgraded: {note}")
        before = ledger.head()
        yield ledger
        after = ledger.anchor() if ledger.head() != before else None
    if after is not None:
        _err(f"ledger anchor: {after}")


def _signing_key(args: argparse.Namespace) -> tuple[SigningKey, Path, str | None]:
    """The key, its file, and a note saying which default key signed (printed on success)."""
    if args.key_file:
        return load_key(Path(args.key_file)), Path(args.key_file), None
    key, path, created = load_or_create_default_key()
    if created:
        _err(
            f"balint-cme: created a signing key at {path} (owner-only); back it up: without it "
            "no certificate can be verified"
        )
        return key, path, None
    return key, path, f"balint-cme: signed with the key at {path}"


def _key_ring(args: argparse.Namespace) -> KeyRing:
    if args.key_file:
        ring = load_key_ring([Path(p) for p in args.key_file])
    else:
        # The default key and every key beside it (rotated out, or a backup copy), each known
        # by the key id inside the file; a file there that is not a key is passed over.
        ring, skipped = load_key_folder(default_key_path())
        for note in skipped:
            _err(f"balint-cme: note: {note}")
    # The society's PDF-signing certificates: verify trusts a signature by these alone.
    society = pdf_signing.load_certificates(
        pdf_signing.configured_cert_paths(getattr(args, "signing_cert", None))
    )
    return KeyRing(ring, signing_certificates=society)


def _pdf_signer(args: argparse.Namespace) -> pdf_signing.SigningIdentity | None:
    """certify's PDF-signing identity, or None (no key configured, or --no-sign)."""
    key_path = None if args.no_sign else pdf_signing.configured_key_path(args.signing_key)
    if key_path is None:
        return None
    certs = pdf_signing.configured_cert_paths(args.signing_cert)
    timestamp_url = args.timestamp_url or os.environ.get(pdf_signing.TIMESTAMP_URL_ENV)
    return pdf_signing.load_signing_identity(
        key_path, certs[0] if certs else None, timestamp_url=timestamp_url
    )


class _Progress:
    """A tqdm bar on a terminal once the total is known; nothing when piped or --quiet."""

    def __init__(self, *, enabled: bool, what: str) -> None:
        self._enabled = enabled and sys.stderr.isatty()
        self._what = what
        self._bar: tqdm[Any] | None = None

    def start(self, total: int) -> None:
        if self._enabled and total:
            self._bar = tqdm(total=total, unit=self._what, file=sys.stderr, leave=False)

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _existing_ledger(args: argparse.Namespace) -> Ledger | None:
    """The ledger if its file exists (opened, never created), else None."""
    path = Path(args.ledger) if args.ledger is not None else default_ledger_path()
    return Ledger.open(path, create=False) if path.exists() else None


def _cmd_certify(args: argparse.Namespace) -> int:
    series = load_series(args.series_file)
    reports = _checked_reports(series, args.attendance)
    # Every input check (series, reports, layout, a drawable certificate for every name) runs
    # before a first run creates the key or the ledger, so a run that fails leaves neither.
    reading = read_reports(reports, series, export_tz=args.export_tz)
    layout = load_layout(args.layout) if args.layout else DEFAULT_LAYOUT
    # The issue date is the provider's: today in the series' time zone, unless given.
    issued_on = args.issued_on or datetime.now(series.zone).date()
    existing = _existing_ledger(args)
    try:
        check_certify(
            series,
            reading,
            ledger=existing,
            issued_on=issued_on,
            layout=layout,
            verify_url_template=args.verify_url,
            skip_unrenderable=args.skip_unrenderable,
        )
    finally:
        if existing is not None:
            existing.close()
    signer = _pdf_signer(args)  # before the HMAC key or the ledger is created
    key, key_path, key_note = _signing_key(args)
    progress = _Progress(enabled=not (args.quiet or args.json), what="cert")
    try:
        with _open_ledger(args) as ledger:
            result = certify(
                args.series_file,
                reports,
                args.out,
                key=key,
                retired_keys=functools.partial(retired_key, key_path),
                ledger=ledger,
                issued_on=issued_on,
                actor=_actor(args),
                export_tz=args.export_tz,
                merged=args.merged,
                workers=args.workers,
                verify_url_template=args.verify_url,
                layout=layout,
                progress=progress.advance,
                on_total=progress.start,
                reading=reading,
                skip_unrenderable=args.skip_unrenderable,
                signer=signer,
            )
    finally:
        progress.close()
    if args.json:
        # Stdout is the JSON document alone; rows that matched nobody and warnings go to stderr.
        _out(json_text=True, text=dump(_certify_document(result)))
        for line in [*format_unmatched(result.unmatched), *_warning_lines(result)]:
            _err(f"balint-cme: {line.strip().removeprefix('balint-cme: ')}")
        if key_note:
            print(key_note, file=sys.stderr)
    elif args.quiet:
        for line in format_unmatched(result.unmatched):  # a warning, even when quiet
            _err(f"balint-cme: {line.strip()}")
    else:
        _out(_certify_summary(result))
        if key_note:  # only now: a failed run's stderr is its one error line
            _err(key_note)
    return 0


def _warning_lines(result: CertifyResult) -> list[str]:
    """Warnings of a run, for stderr when stdout is JSON."""
    return [f"balint-cme: warning: {warning}" for warning in result.warnings]


def _certify_document(result: CertifyResult) -> CertifyDocument:
    return CertifyDocument(
        series=result.series_id,
        out_dir=str(result.out_dir),
        manifest=str(result.manifest),
        certificates=[
            CertificateIssued(
                number=i.number,
                version=i.version,
                participant_id=i.participant_id,
                name=i.name,
                kind=i.kind,
                credits=_two(i.credits),
                hours=_two(i.hours),
                session_dates=list(i.session_dates),
                issued_on=i.issued_on,
                file=i.file,
                page=i.page,
                sha256=i.sha256,
                verification_code=i.verification_code,
                outcome=i.outcome,
            )
            for i in result.issued
        ],
        no_certificate=[
            NoCertificate(participant_id=s.participant_id, name=s.name, reason=s.reason)
            for s in result.skipped
        ],
        warnings=list(result.warnings),
        new_or_changed=result.new_count,
    )


def _certify_summary(result: CertifyResult) -> str:
    lines = [f"{result.series_id}: {len(result.issued)} certificate(s) in {result.out_dir}"]
    for item in result.issued:
        amount = (
            f"{item.credits} credit" if item.kind == "credit" else f"{item.hours} h (participation)"
        )
        lines.append(
            f"  {item.number} v{item.version}  {visible(item.name):<24} {amount:<22} "
            f"{item.outcome:<11} {item.file}"
        )
    for person in result.skipped:
        lines.append(
            visible(f"  no certificate: {person.name} ({person.participant_id}): {person.reason}")
        )
    for warning in result.warnings:
        lines.append(visible(f"  warning: {warning}"))
    lines.extend(format_unmatched(result.unmatched))
    lines.append(f"manifest: {result.manifest} ({result.new_count} new or changed)")
    return "\n".join(lines)


def _print_claims(claims: CertificateClaims) -> None:
    amount = (
        f"{claims.credits} {credit_phrase(claims.credit_type, plural=claims.credits != 1)}"
        if claims.kind == "credit"
        else f"{claims.hours} hour(s) of participation"
    )
    _out(
        visible(
            f"  certificate {claims.number} (version {claims.version}), issued {claims.issued_on}"
        )
    )
    _out(visible(f"  {claims.name}{', ' + claims.credentials if claims.credentials else ''}"))
    _out(visible(f"  {claims.series_title} ({claims.series_id}), {claims.provider}"))
    _out(f"  {amount}; sessions: {', '.join(d.isoformat() for d in claims.session_dates)}")


# Exit codes of `verify` (documented in the README and in `verify --help`).
VERIFY_VALID = 0
"""The certificate is the one issued, and a ledger said it is current (not revoked)."""
VERIFY_NOT_VALID = 1
"""Altered, revoked, superseded, unknown, or sealed with another key."""
VERIFY_COULD_NOT_CHECK = 3
"""A file, key or ledger could not be read, or nothing here can prove this certificate."""
VERIFY_REVOCATION_UNCHECKED = 4
"""Seal and page are genuine, but no ledger was consulted: revocation was not checked."""
VERIFY_JSON_FORMAT = "balint-cme/verify/1"

_VERIFY_EXIT_HELP = """exit status:
  0  valid: the certificate issued, and the ledger says it is current
  1  not valid: altered, revoked, superseded, unknown, or sealed with another key
  2  usage error
  3  could not check: a missing or unreadable file, key or ledger, or a certificate that
     nothing given can prove (a code without a ledger, an old file without a page seal)
  4  seal and page genuine, but no ledger was consulted: revocation not checked"""


def _verify_exit_code(result: VerificationResult) -> int:
    if result.status == VerificationStatus.VALID:
        return VERIFY_VALID if result.revocation_checked else VERIFY_REVOCATION_UNCHECKED
    if result.status == VerificationStatus.COULD_NOT_CHECK:
        return VERIFY_COULD_NOT_CHECK
    return VERIFY_NOT_VALID


def _verify_json(result: VerificationResult | None, exit_code: int, error: str = "") -> str:
    claims = result.claims if result is not None else None
    document: dict[str, Any] = {
        "format": VERIFY_JSON_FORMAT,
        "status": str(result.status) if result is not None else "could-not-check",
        "valid": result is not None and result.is_valid,
        "exit_code": exit_code,
        "revocation_checked": result is not None and result.revocation_checked,
        "page_sealed": result is not None and result.page_sealed,
        "claims": claims.model_dump(mode="json") if claims is not None else None,
        "code": result.code if result is not None else None,
        "key_id": result.key_id if result is not None else None,
        "altered": list(result.altered) if result is not None else [],
        "differences": list(result.problems) if result is not None else [error],
        "notes": list(result.notes) if result is not None else [],
        "page_digest": result.page_digest if result is not None else None,
        "signature": (
            result.signature.model_dump(mode="json")
            if result is not None and result.signature is not None
            else None
        ),
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _verify_ledger_path(args: argparse.Namespace) -> Path | None:
    """The ledger to consult: --ledger (which must exist), else the default one if it exists.

    The default ($BALINT_CME_LEDGER, else the per-user file) is a setting shared by every
    command, so its absence only means "no ledger here": the result then says revocation was
    not checked (exit 4), which scripts tell apart from "valid" (exit 0).
    """
    if args.ledger:
        return Path(args.ledger)
    path = default_ledger_path()
    return path if path.is_file() else None


def _cmd_verify(args: argparse.Namespace) -> int:
    try:
        ring = _key_ring(args)
        path = _verify_ledger_path(args)
        if path is None:
            result = verify_certificate(args.pdf_or_code, ring, None)
        else:
            if not path.is_file():
                what = "is a folder, not a ledger file" if path.is_dir() else "does not exist"
                raise DataFileError(path, f"{what}; cannot check revocation")
            with Ledger.open(path, create=False) as ledger:
                result = verify_certificate(args.pdf_or_code, ring, ledger)
    except BalintCmeError as err:
        # Nothing was checked: a missing or unreadable certificate, key or ledger.
        if args.json:
            document = _verify_json(None, VERIFY_COULD_NOT_CHECK, f"could not check: {err}")
            _out(document, json_text=True)
        else:
            _fail(f"could not check: {err}")
        return VERIFY_COULD_NOT_CHECK
    code = _verify_exit_code(result)
    if args.json:
        _out(_verify_json(result, code), json_text=True)
        return code
    _out(visible(result.headline))
    if result.claims is not None:
        _print_claims(result.claims)
    if result.signature is not None:
        _out(visible(_signature_line(result.signature)))
    for note in result.notes:
        _out(visible(f"  {note}"))
    return code


def _signature_line(signature: SignatureInfo) -> str:
    when = f", {signature.signed_at:%Y-%m-%d %H:%M} UTC" if signature.signed_at else ""
    stamp = (
        f"; timestamp {signature.timestamped_at:%Y-%m-%d %H:%M:%S} UTC by "
        f"{signature.timestamp_authority}"
        if signature.timestamped_at is not None
        else ""
    )
    whose = "the society's certificate" if signature.society else "not checked as the society's"
    return f"  PDF signature (PAdES {signature.level}): {signature.signer}{when} ({whose}){stamp}"


def _cmd_keys_signing_cert(args: argparse.Namespace) -> int:
    key_path = Path(args.key_out) if args.key_out else pdf_signing.default_signing_key_path()
    cert_path = Path(args.cert_out) if args.cert_out else pdf_signing.default_signing_cert_path()
    fingerprint = pdf_signing.create_signing_certificate(
        key_path,
        cert_path,
        organization=args.organization,
        email=args.email,
        country=args.country,
        years=args.years,
    )
    _out(f"created a self-signed PDF-signing certificate for {args.organization}")
    _out(f"  key (owner-only, back it up):  {key_path}")
    _out(f"  certificate (public):         {cert_path}")
    _out(f"  SHA-256 fingerprint:          {fingerprint}")
    _out(
        "certify now signs every certificate with it. Adobe Reader shows such a signature as "
        "'validity unknown' until the reader trusts this certificate; see the README for a "
        "certificate readers trust."
    )
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    with _open_ledger(args, create=False) as ledger:
        record = ledger.revoke(args.number, reason=args.reason, actor=_actor(args))
    _out(f"revoked {record.number} (version {record.version}): {record.revoked_reason}")
    return 0


def _cmd_attendance(args: argparse.Namespace) -> int:
    with _open_ledger(args, create=False) as ledger:
        person = ledger.resolve_person(args.person)
        records = ledger.attendance_of(person.person_id)
    if not records:
        return _fail(f"no participation on record for {args.person!r}")
    if args.json:
        _out(json_text=True, text=dump(_attendance_document(args.person, person, records)))
        return 0
    _out(f"ledger person {person.describe()}")
    for record in records:
        amount = "" if record.points is None else f", {record.points} credit"
        hours = "" if record.participation_hours is None else f", {record.participation_hours} h"
        _out(
            visible(
                f"{record.name} ({record.participant_id}, {record.credentials}): {record.title} "
                f"({record.series_id}){amount}{hours}"
            )
        )
        for session in record.sessions:
            files = ", ".join(sorted({str(s.get("file")) for s in session.sources})) or "no report"
            _out(
                visible(
                    f"  session {session.session} {session.held_on}: {session.minutes} min, "
                    f"credit {session.credit}, hours {session.hours} (from {files})"
                )
            )
        for certificate in record.certificates:
            _out(
                f"  certificate {certificate.number} v{certificate.version}: {certificate.state}, "
                f"issued {certificate.issued_on}"
            )
    return 0


def _two(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


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
                credits=_two(r.points),
                participation_hours=_two(r.participation_hours),
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


def _cmd_ledger_check(args: argparse.Namespace) -> int:
    with _open_ledger(args, create=False) as ledger:
        report = ledger.check_chain(expected_head=args.expected_head, anchor=args.anchor)
    if report.is_intact:
        _out(
            f"intact: {report.events_checked} audit event(s), {report.rows_checked} row(s); "
            f"head {report.head_seq} {report.head_hash}"
        )
        if args.anchor:
            _out(f"anchor {args.anchor} holds: events 1..{args.anchor.split(':')[0]} unchanged")
        _out(f"ledger anchor: {report.head_seq}:{report.head_hash}")
        return 0
    _out(f"TAMPERED: {report.problem_count} problem(s)")
    for problem in report.problems:
        _out(f"  {problem}")
    return 1


def _cmd_ledger_purge(args: argparse.Namespace) -> int:
    with _open_ledger(args, create=False) as ledger:
        report = ledger.purge_series(args.series_id, reason=args.reason, actor=_actor(args))
    _out(
        f"purged {report.series_id}: {report.rows_deleted} row(s), {report.people_deleted} person(s)"
    )
    return 0


def _cmd_consent(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    if args.given_at is not None and args.given_at > now:
        return _fail(f"--given-at {args.given_at:%Y-%m-%d %H:%M} UTC is in the future")
    with _open_ledger(args, create=False) as ledger:
        # Consent is a person's own: never matched by name, and an ambiguous id is an error.
        person = ledger.resolve_person(args.person, by_name=False)
        if args.withdraw:
            record = ledger.withdraw_consent(person.person_id, withdrawn_at=now, actor=_actor(args))
            _out(f"consent withdrawn for {_who(person)}")
        else:
            given = args.given_at or now
            record = ledger.record_consent(
                person.person_id,
                wording_version=args.wording,
                given_at=given,
                actor=_actor(args),
            )
            _out(
                f"consent recorded for {_who(person)} (wording {record.wording_version}, "
                f"{record.given_at:%Y-%m-%d})"
            )
    return 0


def _who(person: PersonRecord) -> str:
    """ "ledger person P000001 (ssvms-balint-2020:p01)": ids only, no personal data."""
    where = ", ".join(f"{series}:{roster}" for series, roster in person.roster_ids)
    return f"ledger person {person.person_id}" + (f" ({where})" if where else "")


def _cmd_transcript(args: argparse.Namespace) -> int:
    if args.from_on and args.to_on and args.from_on > args.to_on:
        return _fail(f"--from {args.from_on} is after --to {args.to_on}")
    with _open_ledger(args, create=False) as ledger:
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
        _out(json_text=True, text=dump(document))
        return 0
    window = f"{transcript.from_on or 'start'} to {transcript.to_on or 'now'}"
    _out(visible(f"{transcript.name} (ledger person {person.describe()}): {window}"))
    for line in transcript.lines:
        dates = ", ".join(d.isoformat() for d in line.held_on)
        _out(
            visible(
                f"  {line.title} ({line.series_id}), {line.accredited_provider}: "
                f"{line.points} credit, {line.participation_hours} h — {dates}"
            )
        )
        for note in line.notes:
            _out(visible(f"    {note}"))
    _out(
        f"total {transcript.total_points} credit of {transcript.target} needed; "
        + ("target met" if transcript.is_target_met else f"{transcript.remaining} still needed")
    )
    return 0


def _cmd_pars_export(args: argparse.Namespace) -> int:
    activity_ids = dict(item.split("=", 1) for item in args.activity_id)
    with _open_ledger(args, create=False) as ledger:
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
        _out(json_text=True, text=dump(document))
        return exit_code
    _out(f"wrote {len(report.learners)} learner row(s) to {args.out}")
    for item in left_out:
        who = (
            f"{item.name} ({item.participant_id}, {item.series_id})"
            if item.name
            else (f"{item.participant_id} in {item.series_id}")
        )
        _out(f"  not exported: {who}: {item.detail}")
    if not complete:
        print(
            f"balint-cme: {sum(1 for i in left_out if i.why != 'no-consent')} consenting "
            f"learner(s) left out (exit {PARS_INCOMPLETE}): complete what is missing and export "
            "again",
            file=sys.stderr,
        )
    return exit_code


# pars: the file was written, but a learner who consented was left out (missing data, or no
# valid certificate). 1 stays "nothing written" (a bad input), as for every command.
PARS_INCOMPLETE = 3


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from balint_cme.web.app import create_app, run_server  # noqa: PLC0415 - the web extra
    except ImportError as err:
        return _fail(
            f"serve needs the web extra ({err.name} is missing): pip install 'balint-cme[web]'"
        )
    ledger_path = Path(args.ledger) if args.ledger else default_ledger_path()
    app = create_app(
        ledger_path,
        _key_ring(args),
        counts_path=args.counts,
        count_verifications=not args.no_counts,
        lookups_per_minute=args.lookups_per_minute,
        burst=args.burst,
        cache_seconds=args.cache_seconds,
    )
    # One line per lookup (code hashed, never the name) from balint_cme.web; uvicorn's own
    # access log is off because it would write the code in the path.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(
        f"balint-cme: verifying at http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr
    )
    run_server(app, host=args.host, port=args.port)
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from balint_cme.web.publish import publish_site  # noqa: PLC0415 - only for this command

    with _open_ledger(args, create=False) as ledger:
        result = publish_site(ledger, _key_ring(args), args.out)
    _out(
        f"published {result.certificates} certificate answer(s) and {result.pdfs} PDF "
        f"fingerprint(s) to {result.out}: {result.written} file(s) written, "
        f"{result.unchanged} unchanged, {result.removed} removed"
    )
    return 0


def _cmd_ledger_verifications(args: argparse.Namespace) -> int:
    from balint_cme.web.counts import default_counts_path, read_counts  # noqa: PLC0415

    ledger_path = Path(args.ledger) if args.ledger else default_ledger_path()
    counts_path = args.counts or default_counts_path(ledger_path)
    if not counts_path.exists():
        _out(f"no verifications recorded (no counts file at {counts_path})")
        return 0
    counts = read_counts(counts_path, args.number)
    totals: dict[str, list[int | str]] = {}
    for count in counts:
        total = totals.setdefault(count.number, [0, 0, ""])
        total[0] = int(total[0]) + count.lookups
        total[1] = int(total[1]) + count.uploads
        total[2] = count.day.isoformat()
    if not totals:
        _out("no verifications recorded" + (f" for {args.number}" if args.number else ""))
    for number, (lookups, uploads, last) in totals.items():
        _out(f"{number}: {lookups} code lookup(s), {uploads} PDF check(s), last on {last}")
    return 0


def _cmd_paths(args: argparse.Namespace) -> int:
    settings = args.settings_file or user_settings_file()
    source = "--settings" if args.settings else "default"
    found = (*places.user_places(), places.Place("settings file", settings, source))
    if args.json:
        document = {
            "version": 1,
            "places": [
                {"name": p.name, "path": str(p.path), "source": p.source, "exists": p.path.exists()}
                for p in found
            ],
        }
        _out(json.dumps(document, indent=2, ensure_ascii=False), json_text=True)
        return 0
    width = max(len(p.name) for p in found)
    for place in found:
        origin = (
            ""
            if place.source == "default"
            else f"  (from {place.source if place.source.startswith('-') else '$' + place.source})"
        )
        missing = "" if place.path.exists() else "  (not created yet)"
        _out(f"{place.name:<{width}}  {place.path}{origin}{missing}")
    return 0


def _cmd_completion(args: argparse.Namespace) -> int:
    _out(completion_script(build_parser(), args.shell).rstrip("\n"))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    summary = run_demo(args.out, now=datetime.now(UTC))
    _out(summary)
    return 0


# ---------------------------------------------------------------------------------------------
# The parser


def _add(
    commands: argparse._SubParsersAction[_Parser],
    name: str,
    handler: Handler,
    summary: str,
    example: str,
) -> _Parser:
    parser = commands.add_parser(
        name, help=summary, description=summary, epilog=f"example:\n  {example}"
    )
    parser.set_defaults(handler=handler)
    return parser


def _attendance_options(parser: _Parser, *, required: bool) -> None:
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
        type=_zone,
        help="the time zone the reports' times were written in, for files without their own "
        "@ZONE (default: the series zone)",
    )


def _ledger_option(parser: _Parser) -> None:
    parser.add_argument(
        "--ledger",
        metavar="FILE",
        type=Path,
        help="the ledger file (default: $BALINT_CME_LEDGER, else ledger.sqlite3 in the "
        "per-user data folder; `balint-cme paths` shows it)",
    )


def _by_option(parser: _Parser) -> None:
    parser.add_argument(
        "--by", metavar="NAME", help="who is acting, for the audit log (default: your login)"
    )


def build_parser() -> _Parser:
    """The argument parser of balint-cme (public for documentation tools)."""
    parser = _Parser(
        prog="balint-cme",
        description="Attendance, AMA PRA Category 1 credit and certificates for Balint group series.",
        epilog="example:\n  balint-cme demo\n\nEvery subcommand has --help with an example.",
    )
    parser.add_argument("--version", action="version", version=f"balint-cme {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="explain on stderr why each report row matched whom (or nobody) and which rule "
        "set each session's credit",
    )
    parser.add_argument(
        "--settings",
        metavar="FILE",
        type=Path,
        help="the society's settings file (default: balint-cme.toml beside the series file, "
        "else in the per-user config folder; options given here override it)",
    )
    commands = parser.add_subparsers(
        title="subcommands", metavar="COMMAND", required=True, parser_class=_Parser
    )

    demo = _add(
        commands,
        "demo",
        _cmd_demo,
        "run the whole job on the built-in 2020 series and synthetic Zoom reports",
        "balint-cme demo --out ./balint-cme-demo",
    )
    demo.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=Path("balint-cme-demo"),
        help="where to write the inputs, certificates and report (default: ./balint-cme-demo)",
    )

    check = _add(
        commands,
        "check",
        _cmd_check,
        "validate a series file and explain every problem",
        "balint-cme check examples/ssvms-balint-2020.toml",
    )
    check.add_argument("series_file", metavar="SERIES_FILE", type=Path)

    schema = _add(
        commands,
        "schema",
        _cmd_schema,
        "print the JSON Schema of the series file, or of a command's --json output",
        "balint-cme schema --output pars > pars-output.schema.json",
    )
    schema.add_argument(
        "--output",
        metavar="NAME",
        choices=["series", *OUTPUT_SCHEMAS],
        default="series",
        help="series (the series file, default) or the --json output of "
        + ", ".join(OUTPUT_SCHEMAS),
    )

    schedule = _add(
        commands,
        "schedule",
        _cmd_schedule,
        "list the session dates in local time; optionally write an iCalendar file",
        "balint-cme schedule examples/ssvms-balint-2020.toml --ics balint-2020.ics",
    )
    schedule.add_argument("series_file", metavar="SERIES_FILE", type=Path)
    schedule.add_argument(
        "--ics", metavar="FILE", type=Path, help="write the sessions as an .ics file"
    )

    credits = _add(
        commands,
        "credits",
        _cmd_credits,
        "per person and session: attended minutes and credit, totals, unmatched rows",
        "balint-cme credits series.toml --attendance 1=zoom-sept.csv 2=zoom-oct.csv --json",
    )
    credits.add_argument("series_file", metavar="SERIES_FILE", type=Path)
    _attendance_options(credits, required=False)
    credits.add_argument(
        "--from-ledger",
        action="store_true",
        help="count the attendance the ledger holds for this series (recorded by certify); "
        "a report given with --attendance replaces the record for its session",
    )
    _ledger_option(credits)
    credits.add_argument("--json", action="store_true", help="print JSON instead of a table")

    commitments = _add(
        commands,
        "commitments",
        _cmd_commitments,
        "members commit to every session: who missed (or left part of) which session, to follow up",
        "balint-cme commitments series.toml --attendance zoom-*.csv",
    )
    commitments.add_argument("series_file", metavar="SERIES_FILE", type=Path)
    _attendance_options(commitments, required=True)
    commitments.add_argument("--json", action="store_true", help="print JSON instead of text")

    certify = _add(
        commands,
        "certify",
        _cmd_certify,
        "write a certificate for every eligible person, a manifest, and the ledger records",
        "balint-cme certify series.toml --attendance zoom-*.csv --out certificates/",
    )
    certify.add_argument("series_file", metavar="SERIES_FILE", type=Path)
    _attendance_options(certify, required=True)
    certify.add_argument("--out", metavar="DIR", type=Path, required=True, help="output directory")
    certify.add_argument(
        "--key-file",
        metavar="FILE",
        type=Path,
        help="the provider's signing key (default: $BALINT_CME_KEY_FILE, else created once as "
        "keys/signing.key in the per-user config folder; `balint-cme paths` shows it)",
    )
    certify.add_argument(
        "--issued-on",
        metavar="YYYY-MM-DD",
        type=_date,
        help="issue date printed on new certificates (default: today)",
    )
    certify.add_argument(
        "--merged", action="store_true", help="one PDF with a page per certificate"
    )
    certify.add_argument(
        "--workers",
        type=int,
        default=2,
        choices=range(1, 17),
        metavar="N",
        help="processes drawing PDFs (default 2)",
    )
    certify.add_argument(
        "--verify-url",
        metavar="TEMPLATE",
        help="the society's verify address for the QR code: a `balint-cme serve` site "
        "(https://cme.example.org, giving .../v/CODE) or a template with {code} "
        "(default: verify_url in --layout, else the code alone)",
    )
    certify.add_argument(
        "--layout",
        metavar="FILE",
        type=Path,
        help="a TOML file of certificate layout settings (logo, colours, "
        "signature images, extra fonts, page size); see docs/certificates.md",
    )
    certify.add_argument(
        "--skip-unrenderable",
        action="store_true",
        help="certify everyone else when the fonts cannot draw someone's name; the summary "
        "and the manifest list who was left out and the characters (their attendance is "
        "still recorded, so a later run with a font that covers it certifies them)",
    )
    certify.add_argument(
        "--signing-key",
        metavar="FILE",
        type=Path,
        help="sign each PDF (PAdES) with the society's key: PEM or PKCS#12, owner-only; "
        "passphrase from $BALINT_CME_SIGNING_PASSPHRASE (default: $BALINT_CME_SIGNING_KEY, "
        "else keys/pdf-signing-key.pem if `keys signing-cert` made one)",
    )
    certify.add_argument(
        "--signing-cert",
        metavar="FILE",
        type=Path,
        help="the society's signing certificate and chain, PEM (default: in the PKCS#12 "
        "file, else $BALINT_CME_SIGNING_CERT, else keys/pdf-signing-cert.pem)",
    )
    certify.add_argument(
        "--timestamp-url",
        metavar="URL",
        help="an RFC 3161 timestamp authority: signatures become PAdES B-T "
        "(default: $BALINT_CME_TIMESTAMP_URL; without one, B-B)",
    )
    certify.add_argument(
        "--no-sign", action="store_true", help="do not sign the PDFs, even with a key configured"
    )
    certify.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    certify.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON (schema: certify); no progress bar",
    )
    _ledger_option(certify)
    _by_option(certify)

    verify = _add(
        commands,
        "verify",
        _cmd_verify,
        "check a certificate PDF or a verification code: valid, altered, revoked, unknown",
        "balint-cme verify certificates/bc-2021-000001.pdf --ledger ledger.sqlite3\n\n"
        + _VERIFY_EXIT_HELP,
    )
    verify.add_argument(
        "--json",
        action="store_true",
        help=f"print the result as JSON (shape {VERIFY_JSON_FORMAT!r}, see the README)",
    )
    verify.add_argument("pdf_or_code", metavar="PDF_OR_CODE")
    _public_keys_option(verify)
    _ledger_option(verify)

    transcript = _add(
        commands,
        "transcript",
        _cmd_transcript,
        "a person's credit across series, against a target (50 over two years)",
        "balint-cme transcript --person p01 --from 2025-02-01 --to 2027-01-31",
    )
    transcript.add_argument("--person", required=True, metavar="PERSON", help=_PERSON_HELP)
    transcript.add_argument(
        "series_files",
        metavar="SERIES_FILE",
        nargs="*",
        help="limit to these series (default: every series in the ledger)",
    )
    transcript.add_argument("--json", action="store_true", help="print JSON (schema: transcript)")
    transcript.add_argument("--from", dest="from_on", metavar="DATE", type=_date)
    transcript.add_argument("--to", dest="to_on", metavar="DATE", type=_date)
    transcript.add_argument(
        "--target",
        type=_credit_amount,
        default=Decimal(50),
        help="credit needed in the window (default 50: California, 16 CCR § 1336)",
    )
    _ledger_option(transcript)

    revoke = _add(
        commands,
        "revoke",
        _cmd_revoke,
        "revoke a certificate, with a reason",
        'balint-cme revoke BC-2026-000007 --reason "issued to the wrong person"',
    )
    revoke.add_argument("number", metavar="NUMBER")
    revoke.add_argument("--reason", required=True)
    _ledger_option(revoke)
    _by_option(revoke)

    attendance = _add(
        commands,
        "attendance",
        _cmd_attendance,
        "a person's verified participation across series (for verification requests)",
        "balint-cme attendance --person ana.ruiz@example.org",
    )
    attendance.add_argument("--person", required=True, metavar="PERSON", help=_PERSON_HELP)
    attendance.add_argument("--json", action="store_true", help="print JSON (schema: attendance)")
    _ledger_option(attendance)

    consent = _add(
        commands,
        "consent",
        _cmd_consent,
        "record (or withdraw) a participant's consent to report completions to ACCME PARS",
        "balint-cme consent --person p01 --wording v1",
    )
    consent.add_argument(
        "--person",
        required=True,
        metavar="PERSON",
        help="as for attendance, but never by name (consent is a person's own)",
    )
    consent.add_argument("--wording", default="v1", help="version of the consent wording agreed to")
    consent.add_argument(
        "--given-at",
        type=_instant,
        metavar="ISO_TIME",
        help="when consent was given (default: now)",
    )
    consent.add_argument("--withdraw", action="store_true")
    _ledger_option(consent)
    _by_option(consent)

    pars = _add(
        commands,
        "pars",
        _cmd_pars_export,
        "export consenting physicians' completions for ACCME PARS (.txt tab-delimited or .xlsx)",
        "balint-cme pars series.toml --out pars-learners.xlsx",
    )
    pars.add_argument("series_files", metavar="SERIES_FILE", nargs="+")
    pars.add_argument("--out", required=True, type=Path, metavar="FILE", help=".txt/.tsv or .xlsx")
    pars.add_argument(
        "--json",
        action="store_true",
        help="print JSON (schema: pars); exit 3 when a consenting learner was left out",
    )
    pars.add_argument(
        "--activity-id",
        metavar="SERIES_ID=PARS_ID",
        action="append",
        default=[],
        type=_pair,
        help="the activity's ID in PARS (repeat per series; default: the series id)",
    )
    pars.add_argument(
        "--columns", type=Path, metavar="FILE", help="a column map (default: the packaged one)"
    )
    _ledger_option(pars)

    ledger = _add(
        commands,
        "ledger",
        _cmd_ledger_check,
        "prove the audit trail untouched (check), or purge a series after retention",
        "balint-cme ledger check",
    )
    ledger_commands = ledger.add_subparsers(
        title="ledger commands", metavar="ACTION", required=True, parser_class=_Parser
    )
    check_chain = _add(
        ledger_commands,
        "check",
        _cmd_ledger_check,
        "verify the hash chain of the audit log and every row",
        "balint-cme ledger check",
    )
    check_chain.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        type=_anchor,
        help="an anchor printed after an earlier change: proves events 1..SEQ unchanged "
        "(later events are fine)",
    )
    check_chain.add_argument(
        "--expected-head",
        metavar="HASH",
        help="a head hash kept elsewhere: the log must still end with it (fails after any "
        "later change; prefer --anchor)",
    )
    _ledger_option(check_chain)
    purge = _add(
        ledger_commands,
        "purge",
        _cmd_ledger_purge,
        "delete a series' records once six years have passed since its last session",
        'balint-cme ledger purge ssvms-balint-2020 --reason "retention period over"',
    )
    purge.add_argument("series_id", metavar="SERIES_ID")
    purge.add_argument("--reason", required=True)
    _ledger_option(purge)
    _by_option(purge)
    verifications = _add(
        ledger_commands,
        "verifications",
        _cmd_ledger_verifications,
        "how often each certificate was verified on the public web app (how often, not who)",
        "balint-cme ledger verifications BC-2021-000001",
    )
    verifications.add_argument("number", metavar="NUMBER", nargs="?")
    _counts_option(verifications)
    _ledger_option(verifications)

    serve = _add(
        commands,
        "serve",
        _cmd_serve,
        "serve the public verification page and JSON API (needs the web extra)",
        "balint-cme serve --ledger ledger.sqlite3 --key-file signing.key --port 8000",
    )
    _public_keys_option(serve)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    _counts_option(serve)
    serve.add_argument(
        "--no-counts", action="store_true", help="do not count verifications per certificate"
    )
    serve.add_argument(
        "--lookups-per-minute",
        type=float,
        default=60.0,
        metavar="N",
        help="sustained lookups per client a minute (default 60), after --burst",
    )
    serve.add_argument(
        "--burst",
        type=int,
        default=20,
        metavar="N",
        help="lookups a client may make at once (default 20)",
    )
    serve.add_argument(
        "--cache-seconds",
        type=int,
        default=60,
        metavar="N",
        help="how long browsers and proxies may keep an answer: the longest a revocation can "
        "go unseen (default 60)",
    )
    _ledger_option(serve)

    publish = _add(
        commands,
        "publish",
        _cmd_publish,
        "write (or update) a static verification site for any static web host",
        "balint-cme publish --out site/",
    )
    publish.add_argument("--out", required=True, type=Path, metavar="DIR", help="the site folder")
    _public_keys_option(publish)
    _ledger_option(publish)

    keys = _add(
        commands,
        "keys",
        _cmd_keys_signing_cert,
        "the society's PDF-signing certificate: create a self-signed one",
        'balint-cme keys signing-cert --organization "Fictional Medical Society"',
    )
    keys_commands = keys.add_subparsers(
        title="keys commands", metavar="ACTION", required=True, parser_class=_Parser
    )
    signing_cert = _add(
        keys_commands,
        "signing-cert",
        _cmd_keys_signing_cert,
        "create a key and a self-signed certificate to sign certificate PDFs with",
        'balint-cme keys signing-cert --organization "Fictional Medical Society" --country US',
    )
    signing_cert.add_argument(
        "--organization", required=True, metavar="NAME", help="the society, as readers show it"
    )
    signing_cert.add_argument("--email", metavar="ADDRESS", help="a contact address to include")
    signing_cert.add_argument("--country", metavar="CC", help="two-letter country code")
    signing_cert.add_argument(
        "--years", type=int, default=10, metavar="N", help="years it is valid (default 10)"
    )
    signing_cert.add_argument(
        "--key-out",
        metavar="FILE",
        type=Path,
        help="where the key goes (default: signing_key in the settings file, else "
        "$BALINT_CME_SIGNING_KEY, else keys/pdf-signing-key.pem)",
    )
    signing_cert.add_argument(
        "--cert-out",
        metavar="FILE",
        type=Path,
        help="where the certificate goes (default: signing_cert in the settings file, else "
        "$BALINT_CME_SIGNING_CERT, else keys/pdf-signing-cert.pem)",
    )

    paths = _add(
        commands,
        "paths",
        _cmd_paths,
        "show where the signing key, the ledger and the font cache are, and what set each",
        "balint-cme paths",
    )
    paths.add_argument("--json", action="store_true", help="print a JSON document instead")
    completion = _add(
        commands,
        "completion",
        _cmd_completion,
        "print a shell completion script for bash, zsh, tcsh or fish",
        "balint-cme completion bash > ~/.local/share/bash-completion/completions/balint-cme",
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    return parser


def _public_keys_option(parser: _Parser) -> None:
    """--key-file, repeatable: the keys a verifier checks with (verify, serve, publish)."""
    parser.set_defaults(key_files_repeat=True)  # a settings file's key_file becomes a list
    parser.add_argument(
        "--signing-cert",
        metavar="FILE",
        type=Path,
        action="append",
        help="the society's PDF-signing certificate (repeat for older ones): a signature by "
        "any other is not the society's (default: $BALINT_CME_SIGNING_CERT, else "
        "keys/pdf-signing-cert.pem if it exists)",
    )
    parser.add_argument(
        "--key-file",
        metavar="FILE",
        type=Path,
        action="append",
        help="the provider's key file (repeat for rotated keys, or name the key folder; "
        "default: the signing key and the keys rotated out beside it)",
    )


def _counts_option(parser: _Parser) -> None:
    parser.add_argument(
        "--counts",
        metavar="FILE",
        type=Path,
        help="the verification counts file (default: the ledger's path + .verifications)",
    )


def _apply_settings(args: argparse.Namespace) -> None:
    """Fill options left out on the command line from the settings file (balint-cme.toml).

    Precedence: command line, then environment variable (ledger, key), then settings file.
    """
    series_file = getattr(args, "series_file", None) or next(
        iter(getattr(args, "series_files", None) or ()), None
    )
    path = find_settings(
        explicit=args.settings, series_file=None if series_file is None else Path(series_file)
    )
    settings = load_settings(path) if path is not None else Settings()
    args.settings_file = path
    if hasattr(args, "by") and not args.by and settings.by:
        args.by = settings.by
    if (
        hasattr(args, "ledger")
        and args.ledger is None
        and not os.environ.get(places.LEDGER_FILE_ENV)
    ):
        args.ledger = settings.ledger
    if (
        hasattr(args, "key_file")
        and not args.key_file
        and not os.environ.get(places.KEY_FILE_ENV)
        and settings.key_file is not None
    ):
        repeated = getattr(args, "key_files_repeat", False)  # set by _public_keys_option
        args.key_file = [settings.key_file] if repeated else settings.key_file
    _apply_signing_settings(args, settings)
    if hasattr(args, "layout") and args.layout is None:
        args.layout = settings.layout
    if hasattr(args, "export_tz") and args.export_tz is None:
        args.export_tz = settings.export_tz
    if hasattr(args, "activity_id"):
        given = [f"{series}={pars_id}" for series, pars_id in settings.pars_activity_ids.items()]
        args.activity_id = [*given, *args.activity_id]  # later entries (the command line) win


def _apply_signing_settings(args: argparse.Namespace, settings: Settings) -> None:
    """signing_key, signing_cert and timestamp_url from the settings file, when neither the
    command line nor the environment gives them."""
    environ = os.environ
    if getattr(args, "signing_key", 0) is None and not environ.get(pdf_signing.SIGNING_KEY_ENV):
        args.signing_key = settings.signing_key
    if (
        hasattr(args, "signing_cert")
        and not args.signing_cert
        and settings.signing_cert is not None
        and not environ.get(pdf_signing.SIGNING_CERT_ENV)
    ):
        listed = isinstance(args.signing_cert, list) or getattr(args, "key_files_repeat", False)
        args.signing_cert = [settings.signing_cert] if listed else settings.signing_cert
    if getattr(args, "timestamp_url", 0) is None and not environ.get(pdf_signing.TIMESTAMP_URL_ENV):
        args.timestamp_url = settings.timestamp_url
    if hasattr(args, "key_out") and args.key_out is None and settings.signing_key is not None:
        args.key_out = settings.signing_key
    if hasattr(args, "cert_out") and args.cert_out is None and settings.signing_cert is not None:
        args.cert_out = settings.signing_cert


def main(argv: Sequence[str] | None = None) -> int:
    """Run balint-cme with `argv` (default: the process arguments); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    # pypdf logs every oddity of a damaged file to stderr; verify reports them as its result.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    explaining = _explain_to_stderr() if args.verbose else None
    try:
        _apply_settings(args)
        return handler(args)
    except BalintCmeError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        return _fail("interrupted")
    except BrokenPipeError:
        return 0
    finally:
        if explaining is not None:
            logging.getLogger("balint_cme").removeHandler(explaining)
            logging.getLogger("balint_cme").setLevel(logging.NOTSET)


class _VisibleFormatter(logging.Formatter):
    """Log lines quote names from report files: their control characters are shown escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def _explain_to_stderr() -> logging.Handler:
    """-v: the library's DEBUG log (match reasons, credit rules) as plain lines on stderr.

    Without -v nothing is configured and the library logs nothing anyone sees: it only logs at
    DEBUG, below the level Python's last-resort handler prints.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_VisibleFormatter("balint-cme: %(message)s"))
    package = logging.getLogger("balint_cme")
    package.setLevel(logging.DEBUG)
    package.addHandler(handler)
    return handler
