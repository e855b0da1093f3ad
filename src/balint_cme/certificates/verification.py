"""Verification codes: the claims' canonical form, HMAC-SHA256 seals, and checking them.

A certificate's claims (who, what, when, how much, which number) are serialised canonically
and sealed with the provider's key: a printed code over all claims, a tag per claim (so a
check can say which claim was changed) and a key check value (so it can tell another key from
an alteration). The claims and seal travel in the PDF's metadata, so `verify_pdf()` works
offline; it also checks that the page shows what the claims say. Comparisons use
`hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import hmac
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from pydantic import ValidationError
from pypdf import PdfReader

from balint_cme.certificates.formatting import (
    credit_phrase,
    format_amount,
    format_date,
    format_dates,
    format_hours,
)
from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.model import CreditPoints, DomainModel, Text

__all__ = [
    "CLAIMS_FORMAT",
    "CLAIM_NAMES",
    "MAX_PDF_BYTES",
    "METADATA_KEY",
    "CertificateClaims",
    "Seal",
    "VerificationResult",
    "canonical_claims",
    "canonical_code",
    "metadata_record",
    "normalize_code",
    "printed_claims",
    "seal_claims",
    "verify_code",
    "verify_pdf",
]

CLAIMS_FORMAT = "balint-cme/certificate-claims/1"
METADATA_KEY = "/BalintCmeCertificate"
"""The PDF document-information entry that holds the claims and seal as JSON."""

MAX_PDF_BYTES = 20 * 1024 * 1024
_CODE_MAC_BYTES = 15  # 120 bits: 24 base32 characters, printed in six groups of four
_TAG_BYTES = 10
_KEY_CHECK_BYTES = 5
_CODE = re.compile(r"([a-z0-9][a-z0-9_-]{0,31})\.([A-Z2-7]{24})")


class CertificateClaims(DomainModel):
    """What a certificate asserts, the part a verification code binds."""

    number: Text
    version: int
    kind: Literal["credit", "participation"]
    name: Text
    credentials: str
    series_id: Text
    series_title: Text
    session_dates: tuple[date, ...]
    credits: CreditPoints | None
    """AMA PRA credit awarded (certificates of credit only)."""
    hours: CreditPoints | None
    """Hours of participation (certificates of participation only)."""
    credit_type: Text
    designated_maximum: CreditPoints
    issued_on: date
    provider: Text
    joint_providers: tuple[Text, ...]
    accreditor: Text


CLAIM_NAMES: tuple[str, ...] = tuple(CertificateClaims.model_fields)
"""Every claim, in the order results report them."""


class Seal(DomainModel):
    """The HMAC material of one certificate. Holds no secret."""

    key_id: str
    code: str
    """The printed verification code: "<key id>.XXXX-XXXX-XXXX-XXXX-XXXX-XXXX"."""
    key_check: str
    """A MAC of a constant: tells "signed with another key" from "altered"."""
    claim_tags: tuple[tuple[str, str], ...]
    """(claim name, tag) for every claim: tells which claim was altered."""


class VerificationResult(DomainModel):
    """The outcome of a check: valid, altered (which claims), wrong key, or unknown."""

    status: Literal["valid", "altered", "wrong-key", "unknown"]
    claims: CertificateClaims | None = None
    """The claims that were checked (as found, possibly altered)."""
    code: str | None = None
    key_id: str | None = None
    altered: tuple[str, ...] = ()
    """Names of the claims found altered, when that can be told."""
    problems: tuple[str, ...] = ()

    @property
    def is_valid(self) -> bool:
        """Whether the certificate is genuine and unaltered."""
        return self.status == "valid"

    @property
    def message(self) -> str:
        """One line for a person."""
        if self.status == "valid":
            assert self.claims is not None
            return f"valid: certificate {self.claims.number} for {self.claims.name}"
        return f"{self.status}: " + "; ".join(self.problems or ("no details",))


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    if isinstance(value, dict):
        return {key: _nfc(item) for key, item in value.items()}
    return value


def _claims_json(claims: CertificateClaims) -> dict[str, Any]:
    return dict(_nfc(claims.model_dump(mode="json")))


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_claims(claims: CertificateClaims) -> bytes:
    """The exact bytes a code signs: sorted-key compact JSON, UTF-8, strings in NFC."""
    return _dumps({"format": CLAIMS_FORMAT, "claims": _claims_json(claims)})


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def _code_mac(claims: CertificateClaims, key: SigningKey) -> str:
    message = b"balint-cme code\x00" + key.key_id.encode() + b"\x00" + canonical_claims(claims)
    return _b32(key.mac(message)[:_CODE_MAC_BYTES])


def _format_code(key_id: str, mac: str) -> str:
    return f"{key_id}." + "-".join(mac[i : i + 4] for i in range(0, len(mac), 4))


def _claim_tag(key: SigningKey, number: str, claim: str, value: object) -> str:
    # The number's own tag binds only the number; every other tag binds the number too, so a
    # tag cannot be carried over from another certificate.
    bound = [claim, value] if claim == "number" else [claim, _nfc(number), value]
    message = b"balint-cme claim\x00" + key.key_id.encode() + b"\x00" + _dumps(bound)
    return _b32(key.mac(message)[:_TAG_BYTES])


def _key_check(key: SigningKey) -> str:
    return key.mac(b"balint-cme key check")[:_KEY_CHECK_BYTES].hex()


def seal_claims(claims: CertificateClaims, key: SigningKey) -> Seal:
    """Seal `claims` under `key`: the printed code, a tag per claim and a key check value."""
    values = _claims_json(claims)
    return Seal(
        key_id=key.key_id,
        code=_format_code(key.key_id, _code_mac(claims, key)),
        key_check=_key_check(key),
        claim_tags=tuple(
            (name, _claim_tag(key, claims.number, name, values[name])) for name in CLAIM_NAMES
        ),
    )


def normalize_code(code: str) -> tuple[str, str] | None:
    """(key id, 24-character MAC) from a code as a person might type it, or None if malformed.

    Case, spaces and dashes are ignored, and 0/1/8 are read as O/I/B (not in base32).
    """
    text = code.strip()
    if "." not in text:
        return None
    key_id, mac = text.rsplit(".", 1)
    mac = re.sub(r"[\s-]", "", mac).upper().translate(str.maketrans("018", "OIB"))
    match = _CODE.fullmatch(f"{key_id.strip().lower()}.{mac}")
    return (match.group(1), match.group(2)) if match else None


def canonical_code(code: str) -> str | None:
    """The code as printed ("key.ABCD-EFGH-..."), from however a person typed it; None if malformed."""
    parts = normalize_code(code)
    return None if parts is None else _format_code(*parts)


def _ring(keys: KeyRing | SigningKey | Iterable[SigningKey]) -> KeyRing:
    if isinstance(keys, KeyRing):
        return keys
    if isinstance(keys, SigningKey):
        return KeyRing([keys])
    return KeyRing(keys)


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
            status="unknown", claims=claims, problems=("not a verification code",)
        )
    key_id, mac = parsed
    key = _ring(keys).get(key_id)
    if key is None:
        return VerificationResult(
            status="wrong-key",
            claims=claims,
            key_id=key_id,
            problems=(f"signed with key {key_id!r}, which is not among the keys given",),
        )
    expected = _code_mac(claims, key)
    if not _equal(expected, mac):
        return VerificationResult(
            status="altered",
            claims=claims,
            key_id=key_id,
            problems=("the code does not match these claims",),
        )
    return VerificationResult(
        status="valid", claims=claims, code=_format_code(key_id, mac), key_id=key_id
    )


def _equal(expected: str, given: str) -> bool:
    """Constant-time comparison of two MAC strings."""
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


def metadata_record(claims: CertificateClaims, seal: Seal) -> str:
    """The JSON stored in the PDF under METADATA_KEY (ASCII, so any PDF reader keeps it intact)."""
    record = {
        "format": CLAIMS_FORMAT,
        "claims": _claims_json(claims),
        "seal": seal.model_dump(mode="json"),
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def printed_claims(claims: CertificateClaims, code: str) -> dict[str, str]:
    """For each claim shown on the page, the exact text the page shows for it."""
    shown = {
        "number": claims.number,
        "name": claims.name,
        "series_title": claims.series_title,
        "session_dates": format_dates(claims.session_dates),
        "issued_on": format_date(claims.issued_on),
        "provider": claims.provider,
        "designated_maximum": (
            f"{format_amount(claims.designated_maximum)} "
            f"{credit_phrase(claims.credit_type, plural=None)}"
        ),
        "code": code,
    }
    if claims.credentials:
        shown["credentials"] = claims.credentials
    if claims.credits is not None:
        shown["credits"] = (
            f"{format_amount(claims.credits)} "
            f"{credit_phrase(claims.credit_type, plural=claims.credits != 1)}"
        )
    if claims.hours is not None:
        shown["hours"] = format_hours(claims.hours)
    return shown


def _pattern(text: str) -> re.Pattern[str]:
    # Any run of whitespace (a line break included) may stand between two characters, since
    # fitted text wraps at spaces and, for an over-long word, between letters.
    letters = [re.escape(c) for c in unicodedata.normalize("NFC", text) if not c.isspace()]
    return re.compile(r"(?<!\w)" + r"\s*".join(letters) + r"(?!\w)")


def _page_text(reader: Any) -> str:
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() or "" for p in reader.pages))


def _unknown(problem: str) -> VerificationResult:
    return VerificationResult(status="unknown", problems=(problem,))


def verify_pdf(
    data: bytes, keys: KeyRing | SigningKey | Iterable[SigningKey]
) -> VerificationResult:
    """Check a certificate PDF offline: its claims, their seal, and that the page shows them.

    Returns "valid"; "altered" naming the claims that changed (in the metadata or on the
    page); "wrong-key" when it was sealed with a key not among `keys`; or "unknown" when the
    data is not a readable balint-cme certificate.
    """
    if len(data) > MAX_PDF_BYTES:
        return _unknown(f"larger than {MAX_PDF_BYTES // (1024 * 1024)} MB: not a certificate")
    try:
        reader = PdfReader(io.BytesIO(data))
        info = reader.metadata
        raw = None if info is None else info.get(METADATA_KEY)
        page_text = _page_text(reader) if raw is not None else ""
    except Exception as err:  # pypdf raises many exception types for damaged files
        return _unknown(f"not a readable PDF ({type(err).__name__})")
    if raw is None:
        return _unknown("the PDF carries no balint-cme certificate claims")
    try:
        record = json.loads(str(raw))
        if record.get("format") != CLAIMS_FORMAT:
            return _unknown(f"unsupported claims format {record.get('format')!r}")
        claims = CertificateClaims.model_validate(record["claims"])
        seal = Seal.model_validate(record["seal"])
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, ValidationError):
        return VerificationResult(
            status="altered", problems=("the embedded claims are damaged or incomplete",)
        )
    key = _ring(keys).get(seal.key_id)
    if key is None:
        return VerificationResult(
            status="wrong-key",
            claims=claims,
            key_id=seal.key_id,
            problems=(f"sealed with key {seal.key_id!r}, which is not among the keys given",),
        )
    if not _equal(_key_check(key), seal.key_check):
        return VerificationResult(
            status="wrong-key",
            claims=claims,
            key_id=seal.key_id,
            problems=(f"sealed with a different key that also has the id {seal.key_id!r}",),
        )
    return _check_claims(claims, seal, key, page_text)


def _check_claims(
    claims: CertificateClaims, seal: Seal, key: SigningKey, page_text: str
) -> VerificationResult:
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
    for name, text in printed_claims(claims, seal.code).items():
        if not _pattern(text).search(page_text):
            if name not in altered and name in CLAIM_NAMES:
                altered.append(name)
            problems.append(f"the page does not show the claimed {name.replace('_', ' ')}")
    if problems:
        return VerificationResult(
            status="altered",
            claims=claims,
            code=seal.code,
            key_id=key.key_id,
            altered=tuple(n for n in CLAIM_NAMES if n in altered),
            problems=tuple(problems),
        )
    return VerificationResult(status="valid", claims=claims, code=seal.code, key_id=key.key_id)
