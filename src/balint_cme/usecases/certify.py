"""The certify use case: reports -> credit -> certificates -> ledger -> manifest.json.

One pass per certificate: the plan (certify_plan) reads the series and reports once, builds
each certificate's content once and checks its fonts once, before a key, a ledger row or a
file exists. Then the durable steps run per batch, not per certificate: every number is
reserved in one ledger transaction, each certificate is sealed once (after its number is
reserved) and drawn into a hidden staging folder, the files are synced to disk together,
moved into place, and the whole batch is confirmed in one transaction. A kill at any moment
leaves a state the next run completes (pending reservations are resumed), never a confirmed
certificate without its file; a re-run issues nothing new for unchanged claims and re-writes
identical files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from balint_cme.certificates.batch import RenderedFile, render_batch
from balint_cme.certificates.content import Certificate, seal_certificate
from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout
from balint_cme.certificates.signing import SigningIdentity
from balint_cme.errors import CertificateError, LedgerError, VerificationError
from balint_cme.io.reports import AttendanceReading, ReportSpec, read_reports
from balint_cme.io.series_file import read_series_file
from balint_cme.ledger import (
    CertificateRecord,
    Confirmation,
    Ledger,
    Redrawn,
    ReservationRequest,
)
from balint_cme.storage import write_atomically
from balint_cme.usecases.certify_plan import (
    CertifyPlan,
    plan_certify,
    replan,
)
from balint_cme.usecases.certify_results import (
    CertifyResult,
    IssuedCertificate,
    SkippedPerson,
    manifest_bytes,
)
from balint_cme.usecases.on_record import recorded_register
from balint_cme.usecases.publishing import (
    keep_issued_file,
    publish,
    staging_folder,
    sync_files,
    sync_folder,
)

__all__ = [
    "CertifyPlan",
    "CertifyResult",
    "IssuedCertificate",
    "ProgressCallback",
    "SkippedPerson",
    "certify",
    "draw_certificates",
    "plan_certify",
]

ProgressCallback = Callable[[int], None]

# What the ledger's claims fingerprint covers besides kind, amount and dates: everything the
# certificate states except what the ledger itself assigns (number, version, date, code).
_LEDGER_ASSIGNED = {"number", "version", "issued_on", "seal", "verify_url"}
_PASSED_SEPARATELY = {"kind", "credits", "hours", "session_dates"}


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


def _recorded_pages(ledger: Ledger, record: CertificateRecord) -> tuple[str, ...]:
    """The page digests the ledger recorded for `record`'s version."""
    recorded = ledger.certificate(record.number, record.version)
    return () if recorded is None else recorded.page_digests


def draw_certificates(
    certificates: Sequence[Certificate],
    staging: Path,
    *,
    keys: KeyRing,
    layout: CertificateLayout,
    workers: int,
    merged: bool,
    progress: ProgressCallback | None,
    signer: SigningIdentity | None = None,
) -> list[RenderedFile]:
    """Certify's render-and-write step: draw the sealed `certificates` into the (fresh,
    private) `staging` folder, page-sealed with `keys` (and, with `signer`, each file signed:
    PAdES, certificates/signing.py), and sync the batch to disk once.

    The fonts were checked when the plan was made, so they are not checked again; the files
    are not synced one by one but together (sync_files), before they are published.

    Raises:
        CertificateError: a certificate cannot be drawn or the folder cannot be written.
    """
    rendered = render_batch(
        certificates,
        staging,
        layout=layout,
        workers=workers,
        merged=merged,
        progress=progress,
        key=keys,
        fonts_checked=True,
        sync=False,
        signer=signer,
    )
    try:
        sync_files(sorted({file.path for file in rendered}), staging)
    except OSError as err:
        raise CertificateError(f"cannot write certificates to {staging.parent}: {err}") from err
    return rendered


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
    plan: CertifyPlan | None = None,
    signer: SigningIdentity | None = None,
) -> CertifyResult:
    """Certificates for every eligible person, recorded in `ledger`, plus DIR/manifest.json.

    With `signer` each certificate file is also signed (PAdES; certificates/signing.py).

    Every input is checked and every certificate is proved drawable before anything is
    written, so a bad report or an unprintable name changes nothing. The PDFs are drawn into
    a hidden folder in `out_dir` and moved into place only once the whole batch is drawn and
    synced, so a failure leaves no file behind (nor `out_dir`, if this run made it);
    reservations it made are resumed by the next run. `issued_on` is used for new
    certificates; unchanged ones keep the date they were first issued with, and their seal:
    one sealed before a key rotation is re-drawn with the retired key that
    `retired_keys(key_id)` returns, so its file and code stay those issued. `on_total` is told
    how many certificates will be drawn, `progress` how many were just drawn. `reading` is the
    reports already read by a caller that checked them first (they are read here otherwise).
    `plan` is plan_certify()'s answer for these inputs, made by a caller that checked before
    creating the key or the ledger: it is used as it is while the ledger holds the attendance
    it counted (its series, reading, date, layout, URL and skip setting then stand for the
    arguments of the same names).

    Raises:
        DataFileError: the series file or a report is unreadable, or `out_dir` is unusable.
        CertificateError: a certificate cannot be drawn (e.g. a name no configured font covers).
        LedgerError: the ledger refuses (e.g. the series was purged).
        VerificationError: an unchanged certificate was sealed with a key that is not given.
    """
    if plan is not None and plan.content is not None:
        series, content = plan.series, plan.content
    else:
        series, content = read_series_file(series_file)
        if plan is not None and plan.series != series:
            plan = None  # the file changed since the plan was made: plan again
    if plan is None:
        if reading is None:
            reading = read_reports(reports, series, export_tz=export_tz)
        # Everything that can fail on the inputs fails here, before the ledger or a file is
        # touched (a roster entry that contradicts the people on record, an unprintable name).
        plan = plan_certify(
            series,
            reading,
            ledger=ledger,
            issued_on=issued_on,
            layout=layout,
            verify_url_template=verify_url_template,
            skip_unrenderable=skip_unrenderable,
            content=content,
        )
    else:
        ledger.check_roster(series)
        plan = replan(plan, recorded_register(ledger, series))
    reading, issued_on, layout = plan.reading, plan.issued_on, plan.layout
    verify_url_template = plan.verify_url_template
    skipped = plan.skipped

    # An unusable --out fails here too; drawn files wait in `staging` until the batch is
    # complete, and a failure from here on removes them (and `out_dir`, if this run made it).
    with staging_folder(out_dir) as staging:
        ledger.record_series(series, content=content, file_name=series_file.name, actor=actor)
        ledger.record_attendance(
            series.id,
            plan.awards,
            reading.records,
            sources={source.path: source.sha256 for source in reading.sources},
            only_sessions=set(plan.covered),
            actor=actor,
        )
        # Every number in one transaction: a kill leaves all of them reserved or none.
        reservations = ledger.reserve_many(
            [
                ReservationRequest(
                    series_id=series.id,
                    participant_id=award.participant_id,
                    kind=draft.kind,
                    credits=_amount(draft),
                    session_dates=draft.session_dates,
                    claims=_ledger_claims(draft),
                    issued_on=issued_on,
                )
                for award, draft in zip(plan.eligible, plan.drafts, strict=True)
            ],
            actor=actor,
        )
        certificates: list[Certificate] = []
        sealing_keys: dict[str, SigningKey] = {key.key_id: key}
        outcomes: list[Literal["new", "new-version", "resumed", "unchanged"]] = []
        people: list[str] = []
        records: dict[str, CertificateRecord] = {}
        for award, draft, reservation in zip(plan.eligible, plan.drafts, reservations, strict=True):
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
            # The one seal, after the number is reserved.
            certificates.append(
                seal_certificate(
                    draft,
                    number=record.number,
                    version=record.version,
                    issued_on=record.issued_on,
                    key=sealing_key,
                    verify_url_template=verify_url_template,
                )
            )
            outcomes.append(reservation.outcome)
            people.append(award.participant_id)
            records[record.number] = record

        if on_total is not None:
            on_total(len(certificates))
        rendered = draw_certificates(
            certificates,
            staging,
            keys=KeyRing(sealing_keys.values()),
            layout=layout,
            workers=workers,
            merged=merged,
            progress=progress,
            signer=signer,
        )
        # A signed file drawn again differs from the issued one (its signing time) although its
        # page is the same: the pages recorded for it are read (only for such a file), and the
        # issued file is kept when it is still in the folder as issued.
        pages: dict[str, tuple[str, ...]] = {}
        kept: set[str] = set()
        for index, (certificate, outcome, file) in enumerate(
            zip(certificates, outcomes, rendered, strict=True)
        ):
            if outcome == "unchanged" and file.signed and not merged:
                on_file = records[certificate.number]
                pages[certificate.number] = _recorded_pages(ledger, on_file)
                issued_file = keep_issued_file(file, on_file, out_dir, pages[certificate.number])
                if issued_file is not None:
                    rendered[index] = issued_file
                    kept.add(certificate.number)
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
                on_file = records[certificate.number]  # the issued version, as reserve() read it
                if (
                    not merged
                    and on_file.pdf_sha256 not in (None, file.sha256)
                    and file.page_digest not in pages.get(certificate.number, ())
                ):
                    warnings.append(
                        f"{relative}: certificate {certificate.number} v{certificate.version} was "
                        "re-drawn with different bytes than issued (layout or software changed); "
                        "its claims and code are unchanged"
                    )
                if file.page_digest is not None and certificate.number not in kept:
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
            try:
                sync_folder(out_dir)  # the names moved in are on disk before the ledger says so
            except OSError as err:
                raise CertificateError(f"cannot write certificates to {out_dir}: {err}") from err
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
        write_atomically(manifest, manifest_bytes(series, issued, skipped, reading.unmatched))
    return CertifyResult(
        series_id=series.id,
        out_dir=out_dir,
        issued=tuple(issued),
        skipped=skipped,
        manifest=manifest,
        warnings=tuple(warnings),
        unmatched=tuple(reading.unmatched),
    )
