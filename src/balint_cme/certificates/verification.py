"""Checking certificates: a printed code against claims, and a certificate PDF offline.

The claims' canonical form and their HMAC-SHA256 seals (a printed code over all claims, a tag
per claim, a key check value) are in seal.py, which reads no PDF; this module checks them and
reads PDFs. The claims and seal travel in the PDF's metadata; a page seal (page_seal.py)
binds everything the PDF can display to them, so `verify_pdf()` proves offline that the page
is the one drawn for the sealed claims, and `seal_page()` writes that seal into a freshly
drawn file. The names of seal.py (and `printed_claims`, from wording.py) are re-exported
here. Comparisons use `hmac.compare_digest`.

Decision: VerificationResult and verify_code live here, with the PDF checks, not in the pure
seal module: a result may describe what a PDF carries (its page seal, its signature), and
the content builder, which must load no PDF library, never needs a result.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import StrEnum

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
    canonical_claims,
    canonical_code,
    claim_tag,
    claims_json,
    code_mac,
    format_code,
    key_check,
    key_ring,
    macs_equal,
    metadata_record,
    normalize_code,
    seal_claims,
)
from balint_cme.certificates.signature_check import SignatureInfo, check_signature
from balint_cme.certificates.wording import printed_claims
from balint_cme.errors import CertificateError
from balint_cme.model import DomainModel

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

# The seal's building blocks, under the names this module's checks have always used.
_claims_json = claims_json
_claim_tag = claim_tag
_code_mac = code_mac
_format_code = format_code
_key_check = key_check
_ring = key_ring
_equal = macs_equal


class VerificationStatus(StrEnum):
    """What a check found. Only VALID means "this is the certificate issued"."""

    VALID = "valid"
    ALTERED = "altered"
    """Sealed claims, page or file differ from what was issued (`problems` says what)."""
    WRONG_KEY = "wrong-key"
    """Sealed with a key that is not among the keys given."""
    UNKNOWN = "unknown"
    """Not a balint-cme certificate, or a number the ledger does not list."""
    SUPERSEDED = "superseded"
    REVOKED = "revoked"
    COULD_NOT_CHECK = "could-not-check"
    """Genuine claims whose page cannot be proven here (a certificate issued before page
    seals, checked without the ledger that recorded its file)."""


class VerificationResult(DomainModel):
    """The outcome of a check: the status, the claims as found, and what differs."""

    status: VerificationStatus
    claims: CertificateClaims | None = None
    """The claims that were checked (as found, possibly altered)."""
    code: str | None = None
    key_id: str | None = None
    altered: tuple[str, ...] = ()
    """Names of the claims found altered, when that can be told."""
    problems: tuple[str, ...] = ()
    """What differs or why it could not be checked, one sentence each."""
    notes: tuple[str, ...] = ()
    """Things a verifier should know that do not change the status."""
    page_sealed: bool = False
    """Whether the page seal proved the displayed page (offline)."""
    revocation_checked: bool = False
    """Whether a ledger was consulted (revoked and superseded versions then show)."""
    page_digest: str | None = None
    """Hex digest of everything the PDF can display (see page_seal.py)."""
    signature: SignatureInfo | None = None
    """The file's PDF signature (certificates/signing.py), when it carries one."""

    @property
    def is_valid(self) -> bool:
        """Whether the certificate is genuine and unaltered."""
        return self.status == VerificationStatus.VALID

    @property
    def differences(self) -> tuple[str, ...]:
        """Human-readable differences (the problems found)."""
        return self.problems

    @property
    def headline(self) -> str:
        """The first line `verify` prints: "valid", or the status and what differs."""
        return "valid" if self.is_valid else self.message

    @property
    def message(self) -> str:
        """One line for a person."""
        if self.status == VerificationStatus.VALID:
            assert self.claims is not None
            return f"valid: certificate {self.claims.number} for {self.claims.name}"
        details = "; ".join(self.problems or ("no details",))
        if self.status in (VerificationStatus.SUPERSEDED, VerificationStatus.REVOKED):
            return details  # the ledger's own words: "superseded by version 2", "revoked: ..."
        return f"{self.status}: {details}"


def verify_code(
    code: str, claims: CertificateClaims, keys: KeyRing | SigningKey | Iterable[SigningKey]
) -> VerificationResult:
    """Check a printed code against claims (e.g. typed in from a certificate, or from a ledger).

    "wrong-key" means the code names a key id that is not among `keys`; a code made with
    another key under the same id, or for other claims, is "altered" (a code alone cannot say
    which claim differs: use verify_pdf for that).
    """
    parsed = normalize_code(code)
    if parsed is None:
        return VerificationResult(
            status=VerificationStatus.UNKNOWN, claims=claims, problems=("not a verification code",)
        )
    key_id, mac = parsed
    key = _ring(keys).get(key_id)
    if key is None:
        return VerificationResult(
            status=VerificationStatus.WRONG_KEY,
            claims=claims,
            key_id=key_id,
            problems=(f"signed with key {key_id!r}, which is not among the keys given",),
        )
    expected = _code_mac(claims, key)
    if not _equal(expected, mac):
        return VerificationResult(
            status=VerificationStatus.ALTERED,
            claims=claims,
            key_id=key_id,
            problems=("the code does not match these claims",),
        )
    return VerificationResult(
        status=VerificationStatus.VALID,
        claims=claims,
        code=_format_code(key_id, mac),
        key_id=key_id,
    )


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
    result = result.evolve(page_sealed=True, page_digest=digest)
    return _with_signature(result, data, _ring(keys)) if inspected.signed else result


def _with_signature(result: VerificationResult, data: bytes, ring: KeyRing) -> VerificationResult:
    """A genuine page in a signed file: the signature must be intact, cover the whole file
    and, when the society's signing certificates are given, be made with one of them."""
    check = check_signature(data, ring.signing_certificates)
    if check.info is None:
        return result.evolve(
            status=VerificationStatus.ALTERED,
            page_sealed=False,
            problems=(f"the PDF signature does not hold: {check.problem}",),
        )
    info = check.info
    result = result.evolve(signature=info)
    if ring.signing_certificates and not info.society:
        return result.evolve(
            status=VerificationStatus.WRONG_KEY,
            problems=(
                f"signed by {info.signer} (certificate SHA-256 {info.signer_sha256[:16]}...), "
                "which is not the society's signing certificate",
            ),
        )
    if not ring.signing_certificates:
        return result.evolve(
            notes=(
                *result.notes,
                f"signed by {info.signer}; not checked against the society's signing "
                "certificate (none was given: --signing-cert)",
            )
        )
    return result


def _check_claims(claims: CertificateClaims, seal: Seal, key: SigningKey) -> VerificationResult:
    values = _claims_json(claims)
    tags = dict(seal.claim_tags)
    altered: list[str] = []
    problems: list[str] = []

    def tag_matches(name: str) -> bool:
        return _equal(_claim_tag(key, claims.number, name, values[name]), tags.get(name, ""))

    if not tag_matches("number"):
        altered.append("number")
        problems.append("the certificate number was changed; other claims cannot be told apart")
    else:
        for name in CLAIM_NAMES:
            if name != "number" and not tag_matches(name):
                altered.append(name)
                problems.append(f"claim {name!r} was changed")
    parsed = normalize_code(seal.code)
    if parsed is None or parsed[0] != key.key_id or not _equal(_code_mac(claims, key), parsed[1]):
        problems.append("the verification code does not match the claims")
    if problems:
        return VerificationResult(
            status=VerificationStatus.ALTERED,
            claims=claims,
            code=seal.code,
            key_id=key.key_id,
            altered=tuple(altered),
            problems=tuple(problems),
        )
    return VerificationResult(
        status=VerificationStatus.VALID, claims=claims, code=seal.code, key_id=key.key_id
    )


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
