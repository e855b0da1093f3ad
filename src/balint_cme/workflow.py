"""The whole job, as the command runs it: reports → credit → certificates → ledger → manifest.

Glue above the edges (io, certificates, ledger), below the command line: each function takes
its time, key, ledger and actor as arguments. certify() is crash-safe and idempotent through
the ledger's two phases: a number is reserved, the PDF written atomically, then confirmed; a
re-run issues nothing new for unchanged claims and re-writes identical files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import ValidationError

from balint_cme.attendance import AttendanceRegister
from balint_cme.certificates.batch import RenderedFile, render_batch
from balint_cme.certificates.content import (
    Certificate,
    build_certificate,
    eligible_awards,
)
from balint_cme.certificates.content import verify_url_template as content_verify_url_template
from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout
from balint_cme.certificates.pdf import check_renderable
from balint_cme.certificates.signing import SigningIdentity
from balint_cme.certificates.verification import (
    MAX_PDF_BYTES,
    CertificateClaims,
    VerificationResult,
    VerificationStatus,
    canonical_code,
    verify_code,
    verify_pdf,
)
from balint_cme.credit import CreditAward, award_series, certificate_decision
from balint_cme.display import display_width, pad
from balint_cme.errors import (
    CertificateError,
    DataFileError,
    LedgerError,
    UnrenderableTextError,
    VerificationError,
)
from balint_cme.io.pars import (
    ParsReport,
    build_pars_report,
    load_pars_columns,
    save_pars_export,
)
from balint_cme.io.reports import AttendanceReading, ReportSpec, UnmatchedRow, read_reports
from balint_cme.io.series_file import load_series, parse_series, read_series_file
from balint_cme.ledger import CertificateRecord, Confirmation, Ledger, PersonRecord, Redrawn
from balint_cme.model import DomainModel, Series
from balint_cme.storage import write_atomically
from balint_cme.text import visible
from balint_cme.transcript import CreditOnRecord

__all__ = [
    "CertifyResult",
    "IssuedCertificate",
    "ParsExport",
    "SkippedPerson",
    "Verdict",
    "assess",
    "assess_with_record",
    "certify",
    "check_certify",
    "claims_from_record",
    "combined_register",
    "credit_on_record",
    "credits_document",
    "export_pars",
    "format_credits_table",
    "format_unmatched",
    "load_layout",
    "read_pdf_bytes",
    "recorded_register",
    "recorded_sessions",
    "transcript_history",
    "unmatched_document",
    "verify_certificate",
    "verify_certificate_pdf",
]


ProgressCallback = Callable[[int], None]

# What the ledger's claims fingerprint covers besides kind, amount and dates: everything the
# certificate states except what the ledger itself assigns (number, version, date, code).
_LEDGER_ASSIGNED = {"number", "version", "issued_on", "seal", "verify_url"}
_PASSED_SEPARATELY = {"kind", "credits", "hours", "session_dates"}


class IssuedCertificate(DomainModel):
    """One certificate written by certify(), as the manifest lists it."""

    number: str
    version: int
    participant_id: str
    name: str
    kind: Literal["credit", "participation"]
    credits: Decimal | None
    hours: Decimal | None
    session_dates: tuple[date, ...]
    issued_on: date
    file: str
    """Relative to the output directory (the merged PDF's name when --merged)."""
    page: int
    sha256: str
    verification_code: str
    outcome: Literal["new", "new-version", "resumed", "unchanged"]


class SkippedPerson(DomainModel):
    """A roster person who gets no certificate, and why."""

    participant_id: str
    name: str
    reason: str


class CertifyResult(DomainModel):
    """What certify() did."""

    series_id: str
    out_dir: Path
    issued: tuple[IssuedCertificate, ...]
    skipped: tuple[SkippedPerson, ...]
    manifest: Path
    warnings: tuple[str, ...] = ()
    unmatched: tuple[UnmatchedRow, ...] = ()
    """Report rows that matched nobody (they earned nothing; add an alias and re-run)."""

    @property
    def new_count(self) -> int:
        """Certificates (or versions) issued by this run."""
        return sum(1 for item in self.issued if item.outcome != "unchanged")


def assess(
    series: Series, reports: Sequence[ReportSpec], *, export_tz: str | None = None
) -> tuple[AttendanceReading, tuple[CreditAward, ...]]:
    """Read the reports and award credit to every roster person.

    Raises:
        DataFileError: a report is unreadable or belongs to no (or several) sessions.
    """
    reading = read_reports(reports, series, export_tz=export_tz)
    return reading, award_series(series, AttendanceRegister(reading.records))


# ---------------------------------------------------------------------------------------------
# Credits report


def _credit_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def credits_document(
    series: Series, awards: Sequence[CreditAward], reading: AttendanceReading
) -> dict[str, Any]:
    participants = []
    for award in awards:
        decision = certificate_decision(series, award)
        participants.append(
            {
                "id": award.participant_id,
                "name": award.name,
                "credentials": award.credentials,
                "physician": award.is_physician,
                "sessions": [
                    {
                        "session": s.session,
                        "date": s.held_on.isoformat(),
                        "minutes": float(s.minutes),
                        "credit": _credit_text(s.credit) if award.is_physician else None,
                        "hours": _credit_text(s.hours),
                        "reason": s.reason,
                    }
                    for s in award.sessions
                ],
                "total_credit": _credit_text(award.points) if award.is_physician else None,
                "participation_hours": _credit_text(award.participation_hours),
                "certificate": decision.kind,
                "certificate_reason": decision.reason,
                "shortfalls": list(award.shortfalls),
            }
        )
    return {
        "series": series.id,
        "title": series.title,
        "series_maximum": _credit_text(series.credit.series_maximum),
        "participants": participants,
        "unmatched": unmatched_document(reading.unmatched),
        "notes": list(reading.notes),
    }


def unmatched_document(rows: Sequence[UnmatchedRow]) -> list[dict[str, Any]]:
    """Report rows that matched nobody, as `credits --json` and certify's manifest list them."""
    return [
        {
            "file": row.file,
            "line": row.line,
            "name": row.name,
            "email": row.email,
            "session": row.session,
            "minutes": float(row.minutes),
            "reason": row.reason,
        }
        for row in rows
    ]


def format_unmatched(rows: Sequence[UnmatchedRow]) -> list[str]:
    """Report rows that matched nobody, as `credits` and `certify` print them: they earn
    nothing until the roster gets an alias, so a physician on an unnamed phone is noticed."""
    if not rows:
        return []
    lines = [f"{len(rows)} report row(s) matched nobody (add an alias to the roster):"]
    for row in rows:
        who = row.name + (f" <{row.email}>" if row.email else "")
        lines.append(
            visible(
                f"  {row.file} line {row.line}: {who}, session {row.session}, {row.minutes} min "
                f"({row.reason})"
            )
        )
    return lines


def format_credits_table(
    series: Series, awards: Sequence[CreditAward], reading: AttendanceReading
) -> str:
    numbers = [s.number for s in series.dated_sessions]
    # Widths in terminal columns (a CJK name takes two per character); credentials are never cut.
    name_width = max([display_width(a.name) for a in awards] + [12])
    cred_width = max([display_width(a.credentials) for a in awards] + [6])
    header = f"{pad('person', name_width)}  {pad('cred.', cred_width)}" + "".join(
        f"  {'#' + str(n):>13}" for n in numbers
    )
    header += f"  {'credit':>7}  {'hours':>6}"
    lines = [
        visible(
            f"{series.title} ({series.id}): maximum {series.credit.series_maximum:.2f} credits"
        ),
        "",
        header,
    ]
    lines.append("-" * len(header))
    for award in awards:
        cells = "".join(
            f"  {s.minutes:>6} {(s.credit if award.is_physician else s.hours):>6}"
            for s in award.sessions
        )
        credit = f"{award.points:.2f}" if award.is_physician else "-"
        lines.append(
            f"{pad(award.name, name_width)}  {pad(award.credentials, cred_width)}{cells}  {credit:>7}  "
            f"{award.participation_hours:>6}"
        )
    lines.append("")
    lines.append("cells: attended minutes, then credit (physicians) or hours (others)")
    if reading.unmatched:
        lines.append("")
        lines.extend(format_unmatched(reading.unmatched))
    for note in reading.notes:
        lines.append(visible(f"note: {note}"))
    # Names and values from files are shown with control and bidi characters escaped, so a
    # line break in a report's name cannot forge a line of this table.
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Certificates


def _ledger_claims(certificate: Certificate) -> dict[str, Any]:
    return certificate.model_dump(mode="json", exclude=_LEDGER_ASSIGNED | _PASSED_SEPARATELY)


def _amount(certificate: Certificate) -> Decimal:
    amount = certificate.credits if certificate.kind == "credit" else certificate.hours
    assert amount is not None
    return amount


_STAGING_PREFIX = ".balint-cme-partial-"


def _is_running(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill(pid, 0) would end the process on Windows: keep the folder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _remove_empty(folders: Sequence[Path]) -> None:
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def _staging(out_dir: Path) -> Iterator[Path]:
    """A new hidden folder in `out_dir` to draw into, removed when the block ends; on failure
    `out_dir` goes too (with the parents made for it) if it was made here and is empty.

    Folders left by runs that were killed (their process is gone) are removed first.

    Raises:
        DataFileError: `out_dir` is not a folder, or cannot be made or written.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise DataFileError(out_dir, "is not a folder; --out names the folder for certificates")
    made = [folder for folder in (out_dir, *out_dir.parents) if not folder.exists()]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.glob(f"{_STAGING_PREFIX}*"):
            pid = stale.name.removeprefix(_STAGING_PREFIX).split("-", 1)[0]
            if pid.isdigit() and not _is_running(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-", dir=out_dir))
    except OSError as err:
        _remove_empty(made)
        raise DataFileError(
            out_dir, f"cannot write certificates here: {err.strerror or err}"
        ) from err
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(made)
        raise
    shutil.rmtree(staging, ignore_errors=True)


class _Published:
    """Files moved into `out_dir` by _publish(), and what each replaced, until the ledger
    confirms them: take_back() restores the folder as it was."""

    def __init__(self, out_dir: Path, kept: Path) -> None:
        self.out_dir = out_dir
        self.kept = kept
        """A folder (inside the staging folder) holding a link to each file replaced."""
        self.moved: list[tuple[Path, Path | None]] = []
        """(published file, the earlier file's kept link or None) in publishing order."""

    def take_back(self) -> None:
        """Undo the publishing: earlier files back in place, new ones removed (best effort:
        a file that cannot be restored stays unconfirmed, which `ledger check-files` and the
        next run see)."""
        for target, previous in reversed(self.moved):
            with contextlib.suppress(OSError):
                if previous is not None:
                    os.replace(previous, target)
                else:
                    target.unlink()
        self.moved.clear()


def _publish(rendered: Sequence[RenderedFile], out_dir: Path, staging: Path) -> _Published:
    """Move a complete batch from the staging folder into `out_dir`, one atomic rename each,
    keeping a link to every file it replaces so the batch can be taken back.

    Raises:
        CertificateError: a name is taken by a folder, or a file cannot be moved (the files
            already moved are taken back).
    """
    files = sorted({file.path for file in rendered})
    published = _Published(out_dir, staging / ".replaced")
    try:
        for path in files:  # checked first, so a blocked name moves nothing
            if (out_dir / path.name).is_dir():
                raise IsADirectoryError(
                    errno.EISDIR, "a folder has the name", str(out_dir / path.name)
                )
        published.kept.mkdir()
        for path in files:
            target = out_dir / path.name
            previous: Path | None = published.kept / path.name
            try:
                os.link(target, published.kept / path.name)
            except FileNotFoundError:
                previous = None
            os.replace(path, target)
            published.moved.append((target, previous))
    except OSError as err:
        published.take_back()
        raise CertificateError(f"cannot write certificates to {out_dir}: {err}") from err
    return published


def _sealing_key(
    record: CertificateRecord,
    outcome: str,
    key: SigningKey,
    retired_keys: Callable[[str], SigningKey | None] | None,
) -> SigningKey:
    """The key an unchanged certificate was sealed with (after a rotation: a retired one)."""
    code = record.verification_code
    if outcome != "unchanged" or not code or code.split(".", 1)[0] == key.key_id:
        return key
    key_id = code.split(".", 1)[0]
    retired = retired_keys(key_id) if retired_keys is not None else None
    if retired is None:
        raise VerificationError(
            f"certificate {record.number} (version {record.version}) was sealed with key "
            f"{key_id!r}, not the signing key {key.key_id!r}: put the retired key file "
            f"{key_id}.key back beside the signing key to re-draw it as issued"
        )
    return retired


def combined_register(
    reading: AttendanceReading, on_record: AttendanceRegister
) -> tuple[set[int], AttendanceRegister]:
    """The sessions `reading` covers, and its records plus the record's for the other sessions.

    Sessions this run's reports cover replace what the ledger holds for them; attendance
    already on record for other sessions stays and counts (certify as each report arrives).
    """
    covered = {source.session for source in reading.sources if source.session is not None}
    covered |= {record.session for record in reading.records}
    register = AttendanceRegister(
        (*reading.records, *(r for r in on_record.records if r.session not in covered))
    )
    return covered, register


def assess_with_record(
    series: Series,
    reports: Sequence[ReportSpec],
    ledger: Ledger,
    *,
    export_tz: str | None = None,
) -> tuple[AttendanceReading, tuple[CreditAward, ...]]:
    """Like assess(), counting the attendance `ledger` holds for sessions no report covers.

    The reading's notes say which sessions came from the ledger (or that it holds none).
    """
    reading = (
        read_reports(reports, series, export_tz=export_tz)
        if reports
        else AttendanceReading(records=(), unmatched=(), notes=(), sources=())
    )
    on_record = recorded_register(ledger, series)
    covered, register = combined_register(reading, on_record)
    from_record = sorted({r.session for r in on_record.records} - covered)
    note = (
        f"attendance for session(s) {', '.join(map(str, from_record))} is the ledger's"
        if from_record
        else f"the ledger holds no attendance for {series.id} beyond the reports given"
    )
    reading = dataclasses.replace(reading, notes=(*reading.notes, note))
    return reading, award_series(series, register)


def recorded_sessions(ledger: Ledger, series: Series) -> tuple[int, ...]:
    """The sessions of `series` the ledger holds attendance for."""
    return tuple(sorted({r.session for r in recorded_register(ledger, series).records}))


class _Plan(NamedTuple):
    """What certify() will issue, worked out before anything is written."""

    covered: set[int]
    awards: tuple[CreditAward, ...]
    eligible: tuple[CreditAward, ...]
    drafts: tuple[Certificate, ...]
    skipped: tuple[SkippedPerson, ...]
    unrenderable: tuple[SkippedPerson, ...]


def _plan(
    series: Series,
    reading: AttendanceReading,
    on_record: AttendanceRegister,
    *,
    key: SigningKey,
    issued_on: date,
    layout: CertificateLayout,
    verify_url_template: str | None,
    skip_unrenderable: bool,
) -> _Plan:
    """Award credit and prove every certificate drawable (pure: nothing is written).

    Raises:
        UnrenderableTextError: a certificate cannot be drawn (unless `skip_unrenderable`:
            then its person is listed in `unrenderable` and `skipped` instead).
    """
    covered, register = combined_register(reading, on_record)
    awards = award_series(series, register)
    eligible = eligible_awards(series, awards)
    chosen = {award.participant_id for award in eligible}
    skipped = [
        SkippedPerson(
            participant_id=award.participant_id,
            name=award.name,
            reason=certificate_decision(series, award).reason or "no certificate",
        )
        for award in awards
        if award.participant_id not in chosen
    ]
    unrenderable: list[SkippedPerson] = []
    kept: list[CreditAward] = []
    drafts: list[Certificate] = []
    for award in eligible:
        draft = build_certificate(
            series,
            award,
            number="DRAFT",
            issued_on=issued_on,
            key=key,
            verify_url_template=verify_url_template,
        )
        try:
            check_renderable(draft, layout)
        except UnrenderableTextError as err:
            if not skip_unrenderable:
                # The draft is numbered "DRAFT": name the person, not a number not yet given.
                raise UnrenderableTextError(
                    err.field,
                    err.characters,
                    person=err.person or f"{award.name} ({award.participant_id})",
                    advice=f"{err.advice} (or certify --skip-unrenderable to certify the others)",
                ) from None
            shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in err.characters)
            unrenderable.append(
                SkippedPerson(
                    participant_id=award.participant_id,
                    name=award.name,
                    reason=f"{err.field}: the configured fonts cannot draw {shown}",
                )
            )
            continue
        kept.append(award)
        drafts.append(draft)
    return _Plan(
        covered=covered,
        awards=tuple(awards),
        eligible=tuple(kept),
        drafts=tuple(drafts),
        skipped=(*skipped, *unrenderable),
        unrenderable=tuple(unrenderable),
    )


def check_certify(
    series: Series,
    reading: AttendanceReading,
    *,
    ledger: Ledger | None,
    issued_on: date,
    layout: CertificateLayout = DEFAULT_LAYOUT,
    verify_url_template: str | None = None,
    skip_unrenderable: bool = False,
) -> tuple[SkippedPerson, ...]:
    """Run certify()'s input checks without a signing key or a ledger file being created.

    `ledger` is the existing ledger (None when there is none yet: nothing is on record). The
    drafts are sealed with a throw-away key: what is checked (the fonts cover every field)
    does not depend on the key. Returns the people `skip_unrenderable` would leave out.

    Raises:
        UnrenderableTextError: a certificate cannot be drawn and `skip_unrenderable` is False.
    """
    if ledger is not None:
        ledger.check_roster(series)  # identity conflicts, as certify() checks them
    on_record = recorded_register(ledger, series) if ledger is not None else AttendanceRegister(())
    plan = _plan(
        series,
        reading,
        on_record,
        key=SigningKey.generate(),
        issued_on=issued_on,
        layout=layout,
        verify_url_template=verify_url_template,
        skip_unrenderable=skip_unrenderable,
    )
    return plan.unrenderable


def certify(
    series_file: Path,
    reports: Sequence[ReportSpec],
    out_dir: Path,
    *,
    key: SigningKey,
    ledger: Ledger,
    issued_on: date,
    actor: str,
    retired_keys: Callable[[str], SigningKey | None] | None = None,
    export_tz: str | None = None,
    merged: bool = False,
    workers: int = 2,
    layout: CertificateLayout = DEFAULT_LAYOUT,
    verify_url_template: str | None = None,
    progress: ProgressCallback | None = None,
    on_total: ProgressCallback | None = None,
    reading: AttendanceReading | None = None,
    skip_unrenderable: bool = False,
    signer: SigningIdentity | None = None,
) -> CertifyResult:
    """Certificates for every eligible person, recorded in `ledger`, plus DIR/manifest.json.

    With `signer` each certificate file is also signed (PAdES; certificates/signing.py).

    Every input is checked and every certificate is proved drawable before anything is
    written, so a bad report or an unprintable name changes nothing. The PDFs are drawn into
    a hidden folder in `out_dir` and moved into place only once the whole batch is drawn, so a
    failure leaves no file behind (nor `out_dir`, if this run made it); reservations it made
    are resumed by the next run. `issued_on` is used for new certificates; unchanged ones keep
    the date they were first issued with, and their seal: one sealed before a key rotation is
    re-drawn with the retired key that `retired_keys(key_id)` returns, so its file and code
    stay those issued. `on_total` is told how many certificates will be drawn, `progress` how
    many were just drawn. `reading` is the reports already read by a caller that checked them
    first (they are read here otherwise).

    Raises:
        DataFileError: the series file or a report is unreadable, or `out_dir` is unusable.
        CertificateError: a certificate cannot be drawn (e.g. a name no configured font covers).
        LedgerError: the ledger refuses (e.g. the series was purged).
        VerificationError: an unchanged certificate was sealed with a key that is not given.
    """
    if verify_url_template is None and layout.verify_url is not None:
        verify_url_template = layout.verify_url
    if verify_url_template is not None:
        verify_url_template = content_verify_url_template(verify_url_template)
    series, content = read_series_file(series_file)
    if reading is None:
        reading = read_reports(reports, series, export_tz=export_tz)
    # A roster entry that contradicts the people on record is refused before anything is
    # written (no PDF, no ledger row).
    ledger.check_roster(series)
    # Everything that can fail on the inputs fails here, before the ledger or a file is touched.
    plan = _plan(
        series,
        reading,
        recorded_register(ledger, series),
        key=key,
        issued_on=issued_on,
        layout=layout,
        verify_url_template=verify_url_template,
        skip_unrenderable=skip_unrenderable,
    )
    covered, awards, eligible, drafts = plan.covered, plan.awards, plan.eligible, plan.drafts
    skipped = plan.skipped

    # An unusable --out fails here too; drawn files wait in `staging` until the batch is
    # complete, and a failure from here on removes them (and `out_dir`, if this run made it).
    with _staging(out_dir) as staging:
        ledger.record_series(series, content=content, file_name=series_file.name, actor=actor)
        ledger.record_attendance(
            series.id,
            awards,
            reading.records,
            sources={source.path: source.sha256 for source in reading.sources},
            only_sessions=covered,
            actor=actor,
        )
        certificates: list[Certificate] = []
        sealing_keys: dict[str, SigningKey] = {key.key_id: key}
        outcomes: list[Literal["new", "new-version", "resumed", "unchanged"]] = []
        people: list[str] = []
        for award, draft in zip(eligible, drafts, strict=True):
            reservation = ledger.reserve(
                series_id=series.id,
                participant_id=award.participant_id,
                kind=draft.kind,
                credits=_amount(draft),
                session_dates=draft.session_dates,
                claims=_ledger_claims(draft),
                issued_on=issued_on,
                actor=actor,
            )
            if reservation.outcome == "revoked":
                skipped += (
                    SkippedPerson(
                        participant_id=award.participant_id,
                        name=award.name,
                        reason=f"certificate {reservation.certificate.number} is revoked",
                    ),
                )
                continue
            record = reservation.certificate
            sealing_key = _sealing_key(record, reservation.outcome, key, retired_keys)
            sealing_keys[sealing_key.key_id] = sealing_key
            certificates.append(
                build_certificate(
                    series,
                    award,
                    number=record.number,
                    version=record.version,
                    issued_on=record.issued_on,
                    key=sealing_key,
                    verify_url_template=verify_url_template,
                )
            )
            outcomes.append(reservation.outcome)
            people.append(award.participant_id)

        if on_total is not None:
            on_total(len(certificates))
        rendered = render_batch(
            certificates,
            staging,
            layout=layout,
            workers=workers,
            merged=merged,
            progress=progress,
            key=KeyRing(sealing_keys.values()),
            signer=signer,
        )
        issued: list[IssuedCertificate] = []
        # Said where credit is certified, not only in the `credits` preview.
        warnings: list[str] = list(reading.double_evidence)
        confirmations: list[Confirmation] = []
        redrawn: list[Redrawn] = []  # unchanged claims drawn again: their page is recorded too
        for certificate, outcome, person, file in zip(
            certificates, outcomes, people, rendered, strict=True
        ):
            relative = file.path.name
            if outcome == "unchanged":
                on_file = ledger.certificate(certificate.number, certificate.version)
                if (
                    not merged
                    and on_file is not None
                    and on_file.pdf_sha256 not in (None, file.sha256)
                    # A signature differs on every run (its time); the page is what counts.
                    and not (file.signed and file.page_digest in on_file.page_digests)
                ):
                    warnings.append(
                        f"{relative}: certificate {certificate.number} v{certificate.version} was "
                        "re-drawn with different bytes than issued (layout or software changed); "
                        "its claims and code are unchanged"
                    )
                if file.page_digest is not None:
                    redrawn.append(
                        Redrawn(
                            certificate.number, certificate.version, file.sha256, file.page_digest
                        )
                    )
            else:
                confirmations.append(
                    Confirmation(
                        certificate.number,
                        certificate.version,
                        file.sha256,
                        relative if not merged else f"{relative}#page={file.page}",
                        certificate.verification_code,
                        file.page_digest,
                    )
                )
            issued.append(
                IssuedCertificate(
                    number=certificate.number,
                    version=certificate.version,
                    participant_id=person,
                    name=certificate.name,
                    kind=certificate.kind,
                    credits=certificate.credits,
                    hours=certificate.hours,
                    session_dates=certificate.session_dates,
                    issued_on=certificate.issued_on,
                    file=relative,
                    page=file.page,
                    sha256=file.sha256,
                    verification_code=certificate.verification_code,
                    outcome=outcome,
                )
            )
        # Files first, then the ledger (a certificate is never recorded without its file);
        # the whole batch is confirmed in one transaction, and if the ledger refuses any of it
        # (e.g. one was revoked while the batch was drawn) every file is taken back, so the
        # folder only ever shows what the ledger confirmed. A kill between the two leaves
        # pending reservations that the next run completes.
        published = _publish(rendered, out_dir, staging)
        try:
            if confirmations or redrawn:
                ledger.confirm_many(confirmations, actor=actor, redrawn=redrawn)
        except LedgerError as err:
            published.take_back()
            raise LedgerError(
                f"{err}; nothing from this run was published ({out_dir} is as it was) and the "
                "other certificates stay reserved: run certify again to issue them"
            ) from err
        except BaseException:
            published.take_back()
            raise
        manifest = out_dir / "manifest.json"
        write_atomically(manifest, _manifest_bytes(series, issued, skipped, reading.unmatched))
    return CertifyResult(
        series_id=series.id,
        out_dir=out_dir,
        issued=tuple(issued),
        skipped=skipped,
        manifest=manifest,
        warnings=tuple(warnings),
        unmatched=tuple(reading.unmatched),
    )


def _manifest_bytes(
    series: Series,
    issued: Sequence[IssuedCertificate],
    skipped: Sequence[SkippedPerson],
    unmatched: Sequence[UnmatchedRow],
) -> bytes:
    document = {
        "series": series.id,
        "title": series.title,
        "certificates": [
            {
                "number": item.number,
                "version": item.version,
                "person": item.participant_id,
                "name": item.name,
                "kind": item.kind,
                "credits": None if item.credits is None else f"{item.credits:.2f}",
                "hours": None if item.hours is None else f"{item.hours:.2f}",
                "session_dates": [d.isoformat() for d in item.session_dates],
                "issued_on": item.issued_on.isoformat(),
                "file": item.file,
                "page": item.page,
                "sha256": item.sha256,
                "verification_code": item.verification_code,
            }
            for item in issued
        ],
        "no_certificate": [
            {"person": s.participant_id, "name": s.name, "reason": s.reason} for s in skipped
        ],
        "unmatched": unmatched_document(unmatched),
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Verification and transcripts


def read_pdf_bytes(path: Path) -> bytes:
    """A certificate PDF's bytes, refusing what is too large to be one.

    Raises:
        DataFileError: the file cannot be read or is larger than MAX_PDF_BYTES.
    """
    try:
        size = path.stat().st_size
        if size > MAX_PDF_BYTES:
            raise DataFileError(path, f"is {size} bytes; a certificate PDF is far smaller")
        with path.open("rb") as handle:  # bounded: a device or pipe has no size to check
            data = handle.read(MAX_PDF_BYTES + 1)
    except OSError as err:
        raise DataFileError(path, f"cannot read file: {err.strerror or err}") from err
    if len(data) > MAX_PDF_BYTES:
        raise DataFileError(
            path, f"is more than {MAX_PDF_BYTES} bytes; a certificate PDF is far smaller"
        )
    return data


def recorded_register(
    ledger: Ledger, series: Series, participant_ids: Sequence[str] = ()
) -> AttendanceRegister:
    """The attendance the ledger holds for `series` (for the given people, default: the roster),
    as it was recorded (times in their zones, with their evidence), read in one query."""
    wanted = set(participant_ids) or {p.id for p in series.participants}
    return AttendanceRegister(
        record for record in ledger.series_attendance(series.id) if record.participant_id in wanted
    )


def transcript_history(
    ledger: Ledger, person: PersonRecord, series_files: Sequence[Path] = ()
) -> list[tuple[Series, AttendanceRegister]]:
    """Each series `person` (a ledger person) took part in, with their attendance as the
    ledger recorded it; pass `dict(person.roster_ids)` to build_transcript as `roster_ids`.

    The series come from `series_files` when given (those the person is not linked to in the
    ledger are left out), else from the snapshots in the ledger.

    Raises:
        DataFileError: a series file (or a snapshot) cannot be read.
    """
    roster_ids = dict(person.roster_ids)
    if series_files:
        chosen = [series for series in map(load_series, series_files) if series.id in roster_ids]
    else:
        chosen = []
        for series_id in roster_ids:
            content = ledger.series_content(series_id)
            if content is not None:
                # The snapshot is the file as used: JSON if it starts like JSON, else TOML.
                suffix = ".json" if content.lstrip()[:1] in (b"{", b"[") else ".toml"
                chosen.append(parse_series(content, Path(f"{series_id}{suffix}")))
    return [
        (series, recorded_register(ledger, series, [roster_ids[series.id]])) for series in chosen
    ]


def credit_on_record(ledger: Ledger, series_id: str, participant_id: str) -> CreditOnRecord:
    """The credit a person's certificate record backs in one series: the one answer that both
    `transcript` and the PARS export use.

    Only a current, issued certificate of credit counts, with its credits. A revoked one
    counts nothing (its reason is given), as do a pending or superseded latest version, a
    certificate of participation, and no certificate at all.
    """
    record = ledger.certificate_for(series_id, participant_id)
    zero = Decimal("0.00")
    if record is None:
        return CreditOnRecord(points=zero, reason="no certificate issued")
    if record.state == "revoked":
        why = f": {record.revoked_reason}" if record.revoked_reason else ""
        return CreditOnRecord(points=zero, reason=f"certificate {record.number} revoked{why}")
    if record.state != "issued":
        return CreditOnRecord(points=zero, reason=f"certificate {record.number} {record.state}")
    if record.kind != "credit":
        return CreditOnRecord(
            points=zero, reason=f"certificate {record.number} is of participation, not credit"
        )
    return CreditOnRecord(points=record.credits)


class ParsExport(DomainModel):
    """What export_pars() wrote, and who was left out and why."""

    report: ParsReport
    uncertified: tuple[tuple[str, str, str], ...]
    """(series id, participant id, why) of physicians with credit but no valid certificate
    (revoked, superseded and pending ones are never reported)."""


def export_pars(
    ledger: Ledger,
    series_files: Sequence[Path],
    out: Path,
    *,
    columns: Path | None = None,
    activity_ids: Mapping[str, str] | None = None,
) -> ParsExport:
    """Write the ACCME PARS learner file for `series_files` from the ledger's records.

    A row is a consenting physician's completion backed by a currently valid certificate of
    credit, with that certificate's credits; learners missing an identifier, without consent
    or without a valid certificate are listed instead. `activity_ids` maps series ids to PARS
    activity IDs (the series id is used where none is given).

    Raises:
        DataFileError: a series file or the column map is unreadable, or `out` is not .xlsx/.txt.
    """
    column_map = load_pars_columns(columns)
    activities = []
    uncertified: list[tuple[str, str, str]] = []
    for path in series_files:
        series = load_series(path)
        certified = []
        for award in award_series(series, recorded_register(ledger, series)):
            if award.kind != "credit":
                continue
            backing = credit_on_record(ledger, series.id, award.participant_id)
            if backing.reason is not None:
                uncertified.append((series.id, award.participant_id, backing.reason))
                continue
            # The certificate is the record of what was awarded.
            certified.append(award.evolve(points=backing.points))
        activities.append((series, certified))
    # Consent belongs to the person who gave it: each series' roster id is looked up through
    # the ledger person it is, so one consent never releases another person's row.
    consenting = {
        (series.id, roster_id)
        for series, _ in activities
        for roster_id in ledger.consenting(series_id=series.id)
    }
    report = build_pars_report(
        activities, consenting, activity_ids=activity_ids, columns=column_map
    )
    save_pars_export(out, report, column_map)
    return ParsExport(report=report, uncertified=tuple(uncertified))


def load_layout(path: Path) -> CertificateLayout:
    """A certificate layout from a TOML file of CertificateLayout fields.

    Relative paths in it (logo, signature images, extra fonts) are relative to the file.

    Raises:
        DataFileError: the file is unreadable, not TOML, or not a valid layout.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DataFileError(path, f"cannot read file: {err.strerror or err}") from err
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DataFileError(path, f"not a valid TOML layout: {err}") from err
    base = path.parent

    def anchored(value: object) -> object:
        return str(base / str(value)) if isinstance(value, str) else value

    for key in ("logo", "font_cache_dir"):
        if key in data:
            data[key] = anchored(data[key])
    if isinstance(data.get("extra_fonts"), list):
        data["extra_fonts"] = [
            {**item, "path": anchored(item["path"])}
            if isinstance(item, dict) and "path" in item
            else anchored(item)
            for item in data["extra_fonts"]
        ]
    for item in (
        data.get("signature_images", []) if isinstance(data.get("signature_images"), list) else []
    ):
        if isinstance(item, dict) and "image" in item:
            item["image"] = anchored(item["image"])
    try:
        return CertificateLayout.model_validate(data)
    except ValidationError as err:
        problem = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in problem["loc"]) or "layout"
        message = str(problem["msg"]).removeprefix("Value error, ")
        raise DataFileError(path, f"{where}: {message}") from err


# ---------------------------------------------------------------------------------------------
# Verification requests


def claims_from_record(record: CertificateRecord) -> CertificateClaims:
    """The claims a ledger record of a certificate version states."""
    fields = set(CertificateClaims.model_fields)
    values = {k: v for k, v in record.claims.items() if k in fields}
    values.update(
        number=record.number,
        version=record.version,
        kind=record.kind,
        session_dates=record.session_dates,
        issued_on=record.issued_on,
        credits=record.credits if record.kind == "credit" else None,
        hours=record.credits if record.kind == "participation" else None,
    )
    return CertificateClaims.model_validate(values)


Verdict = VerificationResult
"""The former name of verify_certificate's answer (it has `headline`, `is_valid`, `claims`,
`notes` as before), kept for callers written against it."""

_LEDGER_STATES: dict[str, VerificationStatus] = {
    "superseded": VerificationStatus.SUPERSEDED,
    "revoked": VerificationStatus.REVOKED,
}


def _claim_differences(found: CertificateClaims, recorded: CertificateClaims) -> list[str]:
    mine, theirs = found.model_dump(), recorded.model_dump()
    return [name for name in CertificateClaims.model_fields if mine[name] != theirs[name]]


def verify_certificate_pdf(
    pdf_bytes: bytes, *, keys: KeyRing | SigningKey, ledger: Ledger | None = None
) -> VerificationResult:
    """Is this PDF the certificate issued? The one verification entry point for a PDF.

    Offline (verify_pdf): the structure checks, the claims' seal and the page seal, which
    proves that everything the file displays was drawn for the sealed claims. With a ledger,
    also: the claims and code are the ones recorded for that number and version (a key alone
    is not enough), the bytes are the file recorded at issue or the page is one the ledger
    recorded for that version (a re-save or a re-draw by certify), and the version is neither
    superseded nor revoked. Without a ledger, a valid result says in `notes` that revocation
    was not checked (`revocation_checked` is False).
    """
    result = verify_pdf(pdf_bytes, keys)
    if ledger is None:
        if result.is_valid:
            return result.evolve(
                notes=(
                    *result.notes,
                    "revocation not checked: no ledger was consulted (the seal and the page "
                    "are genuine; ask the provider whether this version is still current)",
                )
            )
        return result
    claims = result.claims
    if claims is None or result.status not in (
        VerificationStatus.VALID,
        VerificationStatus.COULD_NOT_CHECK,
    ):
        return result
    checked = result.evolve(revocation_checked=True)
    # Only rows proven against the audit chain answer (LedgerTamperedError otherwise): the
    # record compared with the PDF and the revocation state both come from this status.
    status = ledger.certificate_status(claims.number, claims.version)
    record = status.certificate
    if record is None or record.verification_code is None:
        return checked.evolve(
            status=VerificationStatus.UNKNOWN,
            problems=(
                f"certificate {claims.number} version {claims.version} is not in this ledger "
                "as issued",
            ),
        )
    problems: list[str] = []
    if canonical_code(record.verification_code) != result.code:
        problems.append("its verification code is not the one recorded at issue")
    try:
        differing = _claim_differences(claims, claims_from_record(record))
    except ValueError:
        differing = ["the ledger's record cannot be read as claims"]
    if differing:
        problems.append("the ledger records other " + ", ".join(differing))
    if problems:
        return checked.evolve(
            status=VerificationStatus.ALTERED,
            altered=tuple(n for n in differing if n in CertificateClaims.model_fields),
            problems=(
                f"not the certificate issued under number {claims.number} "
                f"version {claims.version}: " + "; ".join(problems),
            ),
        )
    notes = list(result.notes)
    if record.pdf_sha256 != hashlib.sha256(pdf_bytes).hexdigest():
        if not result.page_sealed:
            return checked.evolve(
                status=VerificationStatus.ALTERED,
                problems=(
                    "these bytes are not the file recorded at issue, and the file has no page "
                    "seal that could prove its page",
                ),
            )
        if record.page_digests and result.page_digest not in record.page_digests:
            # A page sealed for the recorded claims but never issued: drawn with the signing
            # key (stolen, or misused) rather than by certify, which records every page it draws.
            return checked.evolve(
                status=VerificationStatus.ALTERED,
                problems=(
                    "the page differs from the one issued under this number "
                    f"({claims.number} version {claims.version}): its seal is genuine, but the "
                    "ledger recorded no such page for it",
                ),
            )
        # A legitimately re-drawn copy (another layout or balint-cme version, a re-save): the
        # page seal proves what it shows, and the claims and code are the ledger's.
        notes.append(
            "these bytes differ from the file recorded at issue (re-saved or re-drawn); the "
            "page is one the ledger recorded for this number"
            if record.page_digests
            else "these bytes differ from the file recorded at issue (re-drawn or re-saved); "
            "the page seal proves the page shows exactly the claims recorded for this number "
            "(issued before the ledger recorded pages, so which page was issued is not checked)"
        )
    elif not result.page_sealed:
        notes.append("issued before page seals: proven by the file recorded in the ledger")
    if status.state in _LEDGER_STATES:
        return checked.evolve(
            status=_LEDGER_STATES[status.state], problems=(status.describe(),), notes=notes
        )
    if status.state != "valid":
        return checked.evolve(
            status=VerificationStatus.UNKNOWN, problems=(status.describe(),), notes=notes
        )
    return checked.evolve(status=VerificationStatus.VALID, problems=(), notes=tuple(notes))


def verify_certificate(
    target: str | Path, keys: KeyRing, ledger: Ledger | None
) -> VerificationResult:
    """Check a certificate PDF (verify_certificate_pdf), or a verification code looked up in
    `ledger` (which a code alone needs: without one the result is "could-not-check").

    Raises:
        DataFileError: `target` is neither a readable file nor something shaped like a code.
    """
    path = Path(target)
    if path.is_file():
        with contextlib.suppress(OSError):
            if path.stat().st_size > MAX_PDF_BYTES:
                return VerificationResult(
                    status=VerificationStatus.UNKNOWN,
                    problems=(f"{path} is larger than a certificate PDF can be",),
                )
        return verify_certificate_pdf(read_pdf_bytes(path), keys=keys, ledger=ledger)
    code = canonical_code(str(target))
    if code is None:
        if path.exists() or "/" in str(target) or str(target).lower().endswith(".pdf"):
            raise DataFileError(str(target), "no such file (or not a regular file)")
        raise DataFileError(
            str(target),
            "is neither a PDF file nor a verification code like k1a2b3c4d.ABCD-EFGH-...",
        )
    if ledger is None:
        return VerificationResult(
            status=VerificationStatus.COULD_NOT_CHECK,
            code=code,
            problems=("a code alone is checked against a ledger, and none was given",),
        )
    record = ledger.certificate_by_code(code)
    if record is None:
        return VerificationResult(
            status=VerificationStatus.UNKNOWN,
            code=code,
            revocation_checked=True,
            problems=("no certificate with this code in this ledger",),
        )
    result = verify_code(code, claims_from_record(record), keys).evolve(revocation_checked=True)
    if not result.is_valid or result.claims is None:
        return result
    # Only rows proven against the audit chain answer (LedgerTamperedError otherwise).
    status = ledger.certificate_status(result.claims.number, result.claims.version)
    if status.state in _LEDGER_STATES:
        return result.evolve(status=_LEDGER_STATES[status.state], problems=(status.describe(),))
    if status.state != "valid":
        return result.evolve(status=VerificationStatus.UNKNOWN, problems=(status.describe(),))
    return result
