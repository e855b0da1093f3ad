"""Certificate claims and their HMAC-SHA256 seals: the canonical form, sealing and codes.

A certificate's claims (who, what, when, how much, which number) are serialised canonically
and sealed with the provider's key: a printed code over all claims, a tag per claim (so a
check can say which claim was changed) and a key check value (so it can tell another key from
an alteration). Pure: no PDF library, no files. The content builder seals with it, and
verification.py checks codes and PDFs with the same MACs (`code_mac`, `claim_tag`,
`key_check`, compared with `macs_equal`, i.e. `hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.model import CreditPoints, DomainModel, Text

__all__ = [
    "CLAIMS_FORMAT",
    "CLAIM_NAMES",
    "METADATA_KEY",
    "CertificateClaims",
    "Seal",
    "canonical_claims",
    "canonical_code",
    "claim_tag",
    "claims_json",
    "code_mac",
    "format_code",
    "key_check",
    "key_ring",
    "macs_equal",
    "metadata_record",
    "normalize_code",
    "seal_claims",
]

CLAIMS_FORMAT = "balint-cme/certificate-claims/1"
METADATA_KEY = "/BalintCmeCertificate"
"""The PDF document-information entry that holds the claims and seal as JSON."""

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


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    if isinstance(value, dict):
        return {key: _nfc(item) for key, item in value.items()}
    return value


def claims_json(claims: CertificateClaims) -> dict[str, Any]:
    return dict(_nfc(claims.model_dump(mode="json")))


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_claims(claims: CertificateClaims) -> bytes:
    """The exact bytes a code signs: sorted-key compact JSON, UTF-8, strings in NFC."""
    return _dumps({"format": CLAIMS_FORMAT, "claims": claims_json(claims)})


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def code_mac(claims: CertificateClaims, key: SigningKey) -> str:
    message = b"balint-cme code\x00" + key.key_id.encode() + b"\x00" + canonical_claims(claims)
    return _b32(key.mac(message)[:_CODE_MAC_BYTES])


def format_code(key_id: str, mac: str) -> str:
    return f"{key_id}." + "-".join(mac[i : i + 4] for i in range(0, len(mac), 4))


def claim_tag(key: SigningKey, number: str, claim: str, value: object) -> str:
    # The number's own tag binds only the number; every other tag binds the number too, so a
    # tag cannot be carried over from another certificate.
    bound = [claim, value] if claim == "number" else [claim, _nfc(number), value]
    message = b"balint-cme claim\x00" + key.key_id.encode() + b"\x00" + _dumps(bound)
    return _b32(key.mac(message)[:_TAG_BYTES])


def key_check(key: SigningKey) -> str:
    return key.mac(b"balint-cme key check")[:_KEY_CHECK_BYTES].hex()


def seal_claims(claims: CertificateClaims, key: SigningKey) -> Seal:
    """Seal `claims` under `key`: the printed code, a tag per claim and a key check value."""
    values = claims_json(claims)
    return Seal(
        key_id=key.key_id,
        code=format_code(key.key_id, code_mac(claims, key)),
        key_check=key_check(key),
        claim_tags=tuple(
            (name, claim_tag(key, claims.number, name, values[name])) for name in CLAIM_NAMES
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
    return None if parts is None else format_code(*parts)


def key_ring(keys: KeyRing | SigningKey | Iterable[SigningKey]) -> KeyRing:
    if isinstance(keys, KeyRing):
        return keys
    if isinstance(keys, SigningKey):
        return KeyRing([keys])
    return KeyRing(keys)


def macs_equal(expected: str, given: str) -> bool:
    """Constant-time comparison of two MAC strings."""
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


def metadata_record(claims: CertificateClaims, seal: Seal) -> str:
    """The JSON stored in the PDF under METADATA_KEY (ASCII, so any PDF reader keeps it intact)."""
    record = {
        "format": CLAIMS_FORMAT,
        "claims": claims_json(claims),
        "seal": seal.model_dump(mode="json"),
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
