"""Certificate PDFs checked offline: the claims and seal a file carries, and its page seal.

The claims and seal travel in the PDF's metadata (their canonical form and HMAC seals are in
seal.py, which reads no PDF); a page seal (page_seal.py) binds everything the PDF can display
to them, so `verify_pdf()` proves offline that the page is the one drawn for the sealed
claims, and `seal_page()` writes that seal into a freshly drawn file. This module reads PDFs
(through page_seal.py and pypdf); the pure names are re-exported here for callers that check
codes and PDFs alike. Comparisons use `hmac.compare_digest`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from pydantic import ValidationError

from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.certificates.page_seal import (
    MAX_PDF_BYTES,
    PAGE_SEAL_KEY,
    NotACertificateError,
    apply_page_seal,
    compute_page_seal,
    inspect_certificate_pdf,
    is_page_seal,
)
from balint_cme.certificates.seal import (
    CLAIM_NAMES,
    CLAIMS_FORMAT,
    METADATA_KEY,
    CertificateClaims,
    Seal,
    VerificationResult,
    VerificationStatus,
    canonical_claims,
    canonical_code,
    check_claims,
    key_check,
    key_ring,
    macs_equal,
    metadata_record,
    normalize_code,
    seal_claims,
    verify_code,
)
from balint_cme.certificates.wording import printed_claims
from balint_cme.errors import CertificateError

__all__ = [
    "CLAIMS_FORMAT",
    "CLAIM_NAMES",
    "MAX_PDF_BYTES",
    "METADATA_KEY",
    "PAGE_SEAL_KEY",
    "CertificateClaims",
    "Seal",
    "VerificationResult",
    "VerificationStatus",
    "canonical_claims",
    "canonical_code",
    "metadata_record",
    "normalize_code",
    "printed_claims",
    "seal_claims",
    "seal_page",
    "verify_code",
    "verify_pdf",
]

# The checks' building blocks, under the names this module has always used for them.
_check_claims = check_claims
_key_check = key_check
_ring = key_ring
_equal = macs_equal


def _unknown(problem: str) -> VerificationResult:
    return VerificationResult(status=VerificationStatus.UNKNOWN, problems=(problem,))


def verify_pdf(
    data: bytes, keys: KeyRing | SigningKey | Iterable[SigningKey]
) -> VerificationResult:
    """Check a certificate PDF offline: its structure, its claims' seal and its page seal.

    Returns "valid" only when the page seal proves that everything the PDF can display is
    what was drawn for the sealed claims; "altered" naming what differs; "wrong-key" when it
    was sealed with a key not among `keys`; "could-not-check" for genuine claims in a file
    without a page seal (issued before page seals: only the ledger that recorded the file can
    prove it); "unknown" when the data is not a balint-cme certificate. The work is bounded:
    see page_seal.inspect_certificate_pdf.
    """
    try:
        inspected = inspect_certificate_pdf(data)
    except NotACertificateError as err:
        if METADATA_KEY.encode("ascii") not in data or str(err).startswith("larger than"):
            # No claims anywhere in the file: not (a copy of) a balint-cme certificate.
            return _unknown(str(err))
        return VerificationResult(
            status=VerificationStatus.ALTERED,
            problems=(f"not the file as issued: {err}",),
        )
    raw = inspected.info.get(METADATA_KEY)
    if raw is None:
        return _unknown("the PDF carries no balint-cme certificate claims")
    digest = inspected.digest.hex()
    try:
        record = json.loads(str(raw))
        if record.get("format") != CLAIMS_FORMAT:
            return _unknown(f"unsupported claims format {record.get('format')!r}")
        claims = CertificateClaims.model_validate(record["claims"])
        seal = Seal.model_validate(record["seal"])
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, ValidationError):
        return VerificationResult(
            status=VerificationStatus.ALTERED,
            problems=("the embedded claims are damaged or incomplete",),
            page_digest=digest,
        )
    key = _ring(keys).get(seal.key_id)
    if key is None:
        return VerificationResult(
            status=VerificationStatus.WRONG_KEY,
            claims=claims,
            key_id=seal.key_id,
            problems=(f"sealed with key {seal.key_id!r}, which is not among the keys given",),
            page_digest=digest,
        )
    if not _equal(_key_check(key), seal.key_check):
        return VerificationResult(
            status=VerificationStatus.WRONG_KEY,
            claims=claims,
            key_id=seal.key_id,
            problems=(f"sealed with a different key that also has the id {seal.key_id!r}",),
            page_digest=digest,
        )
    result = _check_claims(claims, seal, key)
    if result.status != VerificationStatus.VALID:
        return result.evolve(page_digest=digest)
    page_seal = str(inspected.info.get(PAGE_SEAL_KEY, ""))
    if not is_page_seal(page_seal):
        return result.evolve(
            status=VerificationStatus.COULD_NOT_CHECK,
            page_digest=digest,
            problems=(
                "the file has no page seal (certificates issued before page seals have none), "
                "so its page cannot be proven to show the sealed claims; only the ledger that "
                "recorded the issued file can prove it",
            ),
        )
    expected = compute_page_seal(key, seal.code, canonical_claims(claims), inspected.digest)
    if not _equal(expected, page_seal):
        return result.evolve(
            status=VerificationStatus.ALTERED,
            page_digest=digest,
            problems=(
                "the page or the file's content was changed after it was sealed: what it "
                "displays is not what was drawn for these claims",
            ),
        )
    return result.evolve(page_sealed=True, page_digest=digest)


def seal_page(
    data: bytes,
    claims: CertificateClaims,
    seal: Seal,
    keys: KeyRing | SigningKey | Iterable[SigningKey],
    *,
    digest: bytes | None = None,
) -> bytes:
    """Replace the page-seal placeholder of a freshly drawn certificate with its page seal.

    `digest` is page_seal.page_digest of `data` when already known (computed in a worker).

    Raises:
        CertificateError: the key that sealed the claims is not given, or the file is not a
            certificate drawn by render_pdf (the structure checks fail).
    """
    key = _ring(keys).get(seal.key_id)
    if key is None or not _equal(_key_check(key), seal.key_check):
        raise CertificateError(
            f"certificate {claims.number}: the key {seal.key_id!r} that sealed its claims is "
            "not given, so its page cannot be sealed"
        )
    if digest is None:
        try:
            digest = inspect_certificate_pdf(data).digest
        except NotACertificateError as err:
            raise CertificateError(f"certificate {claims.number}: {err}") from err
    page_seal = compute_page_seal(key, seal.code, canonical_claims(claims), digest)
    try:
        return apply_page_seal(data, page_seal)
    except ValueError as err:
        raise CertificateError(f"certificate {claims.number}: {err}") from err
