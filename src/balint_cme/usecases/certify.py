"""The certify use case: reports -> credit -> certificates -> ledger -> manifest.json.

Everything that can fail on the inputs is checked before anything is written; then the
ledger's two phases make the run crash-safe and idempotent (a number is reserved, the PDF
written, then confirmed), and a re-run issues nothing new for unchanged claims and re-writes
identical files. Long (about 450 lines) because the plan, the run and its results belong
together: the folder handling is in `publishing`, the reading of reports in `credits`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

from balint_cme.attendance import AttendanceRegister
from balint_cme.certificates.batch import render_batch
from balint_cme.certificates.content import Certificate, build_certificate, eligible_awards
from balint_cme.certificates.content import verify_url_template as content_verify_url_template
from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout
from balint_cme.certificates.pdf import check_renderable
from balint_cme.credit import CreditAward, award_series, certificate_decision
from balint_cme.errors import LedgerError, UnrenderableTextError, VerificationError
from balint_cme.io.reports import AttendanceReading, ReportSpec, UnmatchedRow, read_reports
from balint_cme.io.series_file import read_series_file
from balint_cme.ledger import CertificateRecord, Confirmation, Ledger, Redrawn
from balint_cme.model import DomainModel, Series
from balint_cme.storage import write_atomically
from balint_cme.usecases.credits import combined_register
from balint_cme.usecases.on_record import recorded_register
from balint_cme.usecases.presentation import unmatched_document
from balint_cme.usecases.publishing import publish, staging_folder

__all__ = [
    "CertifyResult",
    "IssuedCertificate",
    "ProgressCallback",
    "SkippedPerson",
    "certify",
    "check_certify",
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


def _ledger_claims(certificate: Certificate) -> dict[str, Any]:
    return certificate.model_dump(mode="json", exclude=_LEDGER_ASSIGNED | _PASSED_SEPARATELY)


def _amount(certificate: Certificate) -> Decimal:
    amount = certificate.credits if certificate.kind == "credit" else certificate.hours
    assert amount is not None
    return amount


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
) -> CertifyResult:
    """Certificates for every eligible person, recorded in `ledger`, plus DIR/manifest.json.

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
    with staging_folder(out_dir) as staging:
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
        published = publish(rendered, out_dir, staging)
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
