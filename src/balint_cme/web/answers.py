"""The public answer to "is this certificate genuine and current?", shared by the web app and
the static site: the status and exactly the sealed claims, never anything else about the person.

A lookup goes by verification code only (120 bits of HMAC, so codes cannot be guessed or
listed); certificate numbers, which are sequential, are never accepted. Anything that is not
the code of an issued certificate (malformed, unknown, pending, purged, or a ledger row whose
code does not match its claims) is "unknown" and nothing more. No starlette here.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from balint_cme.certificates.formatting import format_amount, format_date, format_dates
from balint_cme.certificates.keys import KeyRing
from balint_cme.certificates.verification import (
    CertificateClaims,
    canonical_code,
    verify_code,
)
from balint_cme.certificates.wording import credits_text, designated_maximum, participation_text
from balint_cme.ledger import CertificateRecord, Ledger
from balint_cme.model import DomainModel
from balint_cme.workflow import claims_from_record

__all__ = [
    "API_VERSION",
    "PublicAnswer",
    "PublicClaims",
    "answer_document",
    "code_digest",
    "look_up",
    "public_claims",
]

API_VERSION = "1"
"""The version of the JSON shape (`answer_document`); a breaking change gets a new number."""

PublicStatus = Literal["valid", "superseded", "revoked", "unknown"]


class PublicClaims(DomainModel):
    """What one certificate version states, as a verifier may see it: the sealed claims only."""

    number: str
    version: int
    kind: Literal["credit", "participation"]
    name: str
    credentials: str
    activity: str
    """The series title, as printed."""
    series_id: str
    provider: str
    joint_providers: tuple[str, ...]
    accreditor: str
    session_dates: tuple[date, ...]
    credits: str | None
    """Credit awarded ("4.75"), certificates of credit only."""
    hours: str | None
    """Hours of participation ("2.0"), certificates of participation only."""
    award: str
    """The award as printed: "4.75 AMA PRA Category 1 Credits™" or "2.0 hours of participation"."""
    designated_maximum: str
    """ "5.0 AMA PRA Category 1 Credit(s)™", the designation statement's maximum."""
    issued_on: date
    session_dates_text: str
    """The dates as the certificate prints them ("September 9 and October 14, 2020")."""
    issued_on_text: str


class PublicAnswer(DomainModel):
    """The answer for one code: status, the claims of the version it was printed on, and for a
    superseded one the current version."""

    status: PublicStatus
    code: str | None = None
    claims: PublicClaims | None = None
    revoked_on: date | None = None
    revoked_reason: str | None = None
    current: PublicClaims | None = None
    """For "superseded": the version that is valid now."""
    superseded_reason: str | None = None


UNKNOWN = PublicAnswer(status="unknown")


def code_digest(code: str) -> str:
    """A short, non-reversible name for a code in logs (the first 16 hex of its SHA-256)."""
    canonical = canonical_code(code) or code
    return hashlib.sha256(canonical.encode("utf-8", "replace")).hexdigest()[:16]


def public_claims(claims: CertificateClaims) -> PublicClaims:
    """The sealed claims as shown to a verifier (amounts written as on the certificate)."""
    if claims.kind == "credit" and claims.credits is not None:
        award = credits_text(claims.credits, claims.credit_type)
    else:
        award = participation_text(claims.hours or Decimal(0))
    return PublicClaims(
        number=claims.number,
        version=claims.version,
        kind=claims.kind,
        name=claims.name,
        credentials=claims.credentials,
        activity=claims.series_title,
        series_id=claims.series_id,
        provider=claims.provider,
        joint_providers=claims.joint_providers,
        accreditor=claims.accreditor,
        session_dates=claims.session_dates,
        credits=None if claims.credits is None else format_amount(claims.credits),
        hours=None if claims.hours is None else format_amount(claims.hours),
        award=award,
        designated_maximum=designated_maximum(claims.designated_maximum, claims.credit_type),
        issued_on=claims.issued_on,
        session_dates_text=format_dates(claims.session_dates),
        issued_on_text=format_date(claims.issued_on),
    )


def _sealed_claims(record: CertificateRecord, keys: KeyRing) -> CertificateClaims | None:
    """The record's claims if its printed code seals them under one of `keys`, else None."""
    if record.verification_code is None:
        return None
    claims = claims_from_record(record)
    result = verify_code(record.verification_code, claims, keys)
    return claims if result.is_valid else None


def answer_for_record(ledger: Ledger, record: CertificateRecord, keys: KeyRing) -> PublicAnswer:
    """The public answer for one certificate version found in the ledger."""
    claims = _sealed_claims(record, keys)
    if claims is None or record.state == "pending":
        return UNKNOWN
    shown = public_claims(claims)
    if record.state == "revoked":
        revoked_on = record.revoked_at.date() if record.revoked_at is not None else None
        return PublicAnswer(
            status="revoked",
            code=record.verification_code,
            claims=shown,
            revoked_on=revoked_on,
            revoked_reason=record.revoked_reason,
        )
    if record.state == "superseded":
        status = ledger.status(record.number)
        current_record = status.current
        current = None
        if current_record is not None and status.state == "valid":
            current_claims = _sealed_claims(current_record, keys)
            current = None if current_claims is None else public_claims(current_claims)
        elif status.state == "revoked":
            # Every version of a revoked number is revoked.
            return PublicAnswer(
                status="revoked",
                code=record.verification_code,
                claims=shown,
                revoked_on=None if status.certificate is None else _revoked_on(status.certificate),
                revoked_reason=status.reason,
            )
        return PublicAnswer(
            status="superseded",
            code=record.verification_code,
            claims=shown,
            current=current,
            superseded_reason=(current_record.reason if current_record is not None else None),
        )
    return PublicAnswer(status="valid", code=record.verification_code, claims=shown)


def _revoked_on(record: CertificateRecord) -> date | None:
    return record.revoked_at.date() if record.revoked_at is not None else None


def look_up(ledger: Ledger, keys: KeyRing, code: str) -> tuple[PublicAnswer, str | None]:
    """The public answer for a code as typed, and the certificate number it belongs to (for
    counting), or (unknown, None)."""
    canonical = canonical_code(code[:200])
    if canonical is None:
        return UNKNOWN, None
    record = ledger.certificate_by_code(canonical)
    if record is None:
        return UNKNOWN, None
    answer = answer_for_record(ledger, record, keys)
    return answer, (record.number if answer.status != "unknown" else None)


def _claims_document(claims: PublicClaims | None) -> dict[str, Any] | None:
    return None if claims is None else claims.model_dump(mode="json")


def answer_document(answer: PublicAnswer) -> dict[str, Any]:
    """The JSON shape of an answer, version API_VERSION (schema: verify-answer.v1.schema.json).

    An unknown answer is {"api_version": "1", "status": "unknown"} and nothing more.
    """
    if answer.status == "unknown":
        return {"api_version": API_VERSION, "status": "unknown"}
    document: dict[str, Any] = {
        "api_version": API_VERSION,
        "status": answer.status,
        "code": answer.code,
        "certificate": _claims_document(answer.claims),
    }
    if answer.status == "revoked":
        document["revoked"] = {
            "on": None if answer.revoked_on is None else answer.revoked_on.isoformat(),
            "reason": answer.revoked_reason,
        }
    if answer.status == "superseded":
        document["superseded"] = {
            "current_version": None if answer.current is None else answer.current.version,
            "reason": answer.superseded_reason,
            "current": _claims_document(answer.current),
        }
    return document
