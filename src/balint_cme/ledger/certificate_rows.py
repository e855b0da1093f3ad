"""Certificate numbers, claims and their stored form, and the checks made before issuing.

What issuing.py (the reserve → confirm → revoke transactions) and the certificate lookups
share: the number format, the claims fingerprint, a `certificates` row as a CertificateRecord
and back, reading a number's version rows, and the argument checks run before a transaction
starts. Nothing here writes.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from balint_cme.errors import InvalidArgumentError
from balint_cme.ledger.chain import canonical_json
from balint_cme.ledger.records import CertificateRecord
from balint_cme.ledger.schema import TABLES
from balint_cme.ledger.writer import parse_time

__all__ = [
    "NUMBER_PATTERN",
    "Confirmation",
    "PreparedClaims",
    "Redrawn",
    "certificate_from_row",
    "changed_claims",
    "check_confirmation",
    "check_page_digest",
    "claim_view",
    "claims_fingerprint",
    "format_number",
    "normalise_number",
    "page_digests_of",
    "pending_certificate_row",
    "prepare_claims",
    "version_with_code",
    "versions_of",
]

NUMBER_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,9}-\d{4}-\d{6,}")
"""A certificate number: PREFIX-YEAR-SEQUENCE, e.g. "BC-2026-000123"."""

_CERTIFICATE_COLUMNS = ", ".join(TABLES["certificates"].columns)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PAGE_DIGEST = re.compile(r"[0-9a-f]{32,128}")


def format_number(prefix: str, year: int, seq: int) -> str:
    """ "BC-2026-000123": the prefix, the year of first issue and the global sequence number."""
    return f"{prefix}-{year:04d}-{seq:06d}"


def normalise_number(text: str) -> str:
    """A number as typed ("bc-2026-000123 ") in its stored form ("BC-2026-000123")."""
    return text.strip().upper()


def _credits_text(credits: Decimal) -> str:
    if not isinstance(credits, Decimal) or not credits.is_finite() or credits < 0:
        raise InvalidArgumentError(f"credits must be a non-negative Decimal, not {credits!r}")
    if credits % Decimal("0.25") != 0:
        raise InvalidArgumentError(f"credits {credits} is not a multiple of 0.25")
    return f"{credits:.2f}"


def claim_view(
    kind: str, credits_text: str, session_dates: Sequence[str], claims: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "kind": kind,
        "credits": credits_text,
        "session_dates": list(session_dates),
        "claims": dict(claims),
    }


def claims_fingerprint(
    kind: str, credits: Decimal, session_dates: Sequence[date], claims: Mapping[str, Any]
) -> str:
    """SHA-256 of what a certificate states (besides number, version, date and code)."""
    view = claim_view(kind, _credits_text(credits), [d.isoformat() for d in session_dates], claims)
    return hashlib.sha256(canonical_json(view).encode("utf-8")).hexdigest()


def changed_claims(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    changed = [name for name in ("kind", "credits", "session_dates") if old[name] != new[name]]
    old_claims, new_claims = old["claims"], new["claims"]
    changed.extend(
        sorted(
            key
            for key in set(old_claims) | set(new_claims)
            if old_claims.get(key) != new_claims.get(key)
        )
    )
    return tuple(changed)


def certificate_from_row(
    row: Mapping[str, Any], page_digests: Sequence[str] = ()
) -> CertificateRecord:
    """A certificates-table row as a record (with the version's recorded page digests)."""
    return CertificateRecord(
        number=row["number"],
        version=row["version"],
        series_id=row["series_id"],
        participant_id=row["participant_id"],
        kind=row["kind"],
        credits=Decimal(row["credits"]),
        session_dates=tuple(date.fromisoformat(d) for d in json.loads(row["session_dates"])),
        issued_on=date.fromisoformat(row["issued_on"]),
        claims=json.loads(row["claims"]),
        claims_fingerprint=row["claims_fingerprint"],
        series_sha256=row["series_sha256"],
        reason=row["reason"],
        state=row["state"],
        reserved_at=parse_time(row["reserved_at"]),
        confirmed_at=parse_time(row["confirmed_at"]),
        verification_code=row["verification_code"],
        pdf_sha256=row["pdf_sha256"],
        file_name=row["file_name"],
        superseded_by=row["superseded_by"],
        superseded_at=parse_time(row["superseded_at"]),
        revoked_at=parse_time(row["revoked_at"]),
        revoked_reason=row["revoked_reason"],
        revoked_by=row["revoked_by"],
        page_digests=tuple(page_digests),
    )


def page_digests_of(connection: sqlite3.Connection, number: str) -> dict[int, tuple[str, ...]]:
    """Version → the page digests recorded for it."""
    found: dict[int, list[str]] = {}
    for version, digest in connection.execute(
        "SELECT version, digest FROM page_digests WHERE number = ? ORDER BY version, digest",
        (number,),
    ):
        found.setdefault(version, []).append(digest)
    return {version: tuple(digests) for version, digests in found.items()}


def version_with_code(connection: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """The version row printed with verification `code`, or None."""
    row = connection.execute(
        f"SELECT {_CERTIFICATE_COLUMNS} FROM certificates WHERE verification_code = ?",
        (code,),
    ).fetchone()
    columns = TABLES["certificates"].columns
    return None if row is None else dict(zip(columns, row, strict=True))


def versions_of(connection: sqlite3.Connection, number: str) -> list[dict[str, Any]]:
    """Every version row of `number`, oldest first."""
    cursor = connection.execute(
        f"SELECT {_CERTIFICATE_COLUMNS} FROM certificates WHERE number = ? ORDER BY version",
        (number,),
    )
    columns = TABLES["certificates"].columns
    return [dict(zip(columns, values, strict=True)) for values in cursor]


class Confirmation(NamedTuple):
    """One item of Ledger.confirm_many(): the arguments of Ledger.confirm()."""

    number: str
    version: int
    pdf_sha256: str
    file_name: str
    verification_code: str
    page_digest: str | None = None
    """page_seal.page_digest of the file (hex), recorded so verify can tell its page from
    another one sealed for the same claims; None for a page of a merged file."""


class Redrawn(NamedTuple):
    """An issued version drawn again with unchanged claims (Ledger.confirm_many(redrawn=))."""

    number: str
    version: int
    pdf_sha256: str
    page_digest: str


class PreparedClaims(NamedTuple):
    """A certificate's claims checked and in stored form, before any transaction starts."""

    kind: str
    credits_text: str
    dates: list[str]
    view: dict[str, Any]
    fingerprint: str
    claims_text: str


def prepare_claims(
    kind: str, credits: Decimal, session_dates: Sequence[date], claims: Mapping[str, Any]
) -> PreparedClaims:
    """Check the arguments of reserve() and compute the fingerprint.

    Raises:
        ValueError: unknown kind, credits not a non-negative multiple of 0.25, dates out of
            order, or claims that are not JSON values.
    """
    if kind not in ("credit", "participation"):
        raise InvalidArgumentError(f"kind must be 'credit' or 'participation', not {kind!r}")
    credits_text = _credits_text(credits)
    dates = [d.isoformat() for d in session_dates]
    if dates != sorted(set(dates)):
        raise InvalidArgumentError("session_dates must be distinct and in date order")
    view = claim_view(kind, credits_text, dates, claims)
    fingerprint = hashlib.sha256(canonical_json(view).encode("utf-8")).hexdigest()
    return PreparedClaims(
        kind, credits_text, dates, view, fingerprint, canonical_json(dict(claims))
    )


def check_page_digest(page_digest: str | None) -> None:
    """Raises ValueError unless `page_digest` is None or lowercase hexadecimal of a digest."""
    if page_digest is not None and (
        not isinstance(page_digest, str) or not _PAGE_DIGEST.fullmatch(page_digest)
    ):
        raise InvalidArgumentError("page_digest must be 32-128 lowercase hexadecimal digits")


def check_confirmation(
    pdf_sha256: str, file_name: str, verification_code: str, page_digest: str | None = None
) -> None:
    """Check the arguments of confirm() before any transaction starts.

    Raises:
        ValueError: a malformed hash, file name, code or page digest.
    """
    check_page_digest(page_digest)
    if not isinstance(pdf_sha256, str) or not _SHA256.fullmatch(pdf_sha256):
        raise InvalidArgumentError("pdf_sha256 must be 64 lowercase hexadecimal digits")
    if not file_name or "\x00" in file_name or len(file_name) > 1000:
        raise InvalidArgumentError("file_name must be 1-1000 characters without NUL")
    if not verification_code or len(verification_code) > 500:
        raise InvalidArgumentError("verification_code must be 1-500 characters")


def pending_certificate_row(
    *,
    number: str,
    version: int,
    series_id: str,
    participant_id: str,
    kind: str,
    credits: str,
    session_dates: Sequence[str],
    issued_on: str,
    claims: str,
    claims_fingerprint: str,
    series_sha256: str,
    reason: str | None,
    reserved_at: str,
) -> dict[str, object]:
    """A `certificates` row for a newly reserved (pending) version, in stored form."""
    return {
        "number": number,
        "version": version,
        "series_id": series_id,
        "participant_id": participant_id,
        "kind": kind,
        "credits": credits,
        "session_dates": canonical_json(list(session_dates)),
        "issued_on": issued_on,
        "claims": claims,
        "claims_fingerprint": claims_fingerprint,
        "series_sha256": series_sha256,
        "reason": reason,
        "state": "pending",
        "reserved_at": reserved_at,
        "confirmed_at": None,
        "verification_code": None,
        "pdf_sha256": None,
        "file_name": None,
        "superseded_by": None,
        "superseded_at": None,
        "revoked_at": None,
        "revoked_reason": None,
        "revoked_by": None,
    }
