"""The verify use case: is this PDF, or this verification code, a certificate issued?

Offline checks (seal, page seal) come from `certificates.verification`; this module adds
the ledger's answer (the recorded claims, file and page, and revocation).
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.certificates.pdf_file import read_pdf_bytes
from balint_cme.certificates.verification import (
    MAX_PDF_BYTES,
    CertificateClaims,
    VerificationResult,
    VerificationStatus,
    canonical_code,
    verify_code,
    verify_pdf,
)
from balint_cme.errors import DataFileError
from balint_cme.ledger import CertificateRecord, Ledger

__all__ = ["Verdict", "claims_from_record", "verify_certificate", "verify_certificate_pdf"]


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
