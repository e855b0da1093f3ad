"""Certificate: exactly what one certificate says, and the seal that lets anyone check it.

This module's one job is the record itself: its fields, the rules a certificate's text and
amounts must keep (credit or participation, dates in order, printable text) and what follows
from them (the sealed claims, the QR payload, the credit phrases). Building one from a credit
award is content.py's job. Pure: no reportlab, no PDF library, no files, no clock.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated, Literal, Self
from urllib.parse import quote, urlsplit

from pydantic import Field, StringConstraints, model_validator

from balint_cme.certificates.formatting import credit_phrase
from balint_cme.certificates.seal import CertificateClaims, Seal
from balint_cme.model import CreditPoints, DomainModel, Text

__all__ = ["Certificate", "CertificateNumber", "FacilitatorSignature"]

CertificateNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]
"""A certificate number as the provider assigns it, e.g. "FMMS-2020-0007"."""

_UNPRINTABLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _unprintable(text: str) -> list[str]:
    # Control and format characters (bidi overrides, zero-width joiners...) cannot be drawn
    # faithfully without a shaping engine and could disguise what a certificate says.
    return [
        c for c in text if unicodedata.category(c) in _UNPRINTABLE_CATEGORIES and c not in "\t\n\r"
    ]


class FacilitatorSignature(DomainModel):
    """A facilitator who signs the certificate."""

    name: Text
    credentials: str = ""


class Certificate(DomainModel):
    """Exactly what one certificate says, plus the seal that lets anyone check it."""

    kind: Literal["credit", "participation"]
    number: CertificateNumber
    version: Annotated[int, Field(ge=1)] = 1
    """1 for the first issue; higher for a corrected reissue under the same number."""
    issued_on: date
    name: Text
    credentials: str = ""
    series_id: Text
    series_title: Text
    learning_format: Text
    delivery: Literal["virtual", "in-person", "hybrid"]
    location: Text
    session_dates: tuple[date, ...] = Field(min_length=1)
    """Local dates of the sessions the person attended (not the whole series)."""
    credits: CreditPoints | None = None
    """AMA PRA credit awarded; set on certificates of credit only."""
    hours: CreditPoints | None = None
    """Hours attended; set on certificates of participation only."""
    credit_type: Text = "AMA PRA Category 1 Credit"
    designated_maximum: CreditPoints
    provider: Text
    """The accredited provider."""
    joint_providers: tuple[Text, ...] = ()
    accreditor: Text
    designation_statement: Text
    accreditation_statement: Text
    facilitators: tuple[FacilitatorSignature, ...] = ()
    seal: Seal
    verify_url: str | None = None
    """Where the QR code points; None puts the code alone in the QR code."""
    participant_id: str = ""
    """Who the certificate is for in the series (not printed, not sealed): named in errors."""

    @model_validator(mode="after")
    def _check_amount_matches_kind(self) -> Self:
        if self.kind == "credit" and (self.credits is None or self.credits <= 0):
            raise ValueError("a certificate of credit states the credits awarded (above 0)")
        if self.kind == "credit" and self.hours is not None:
            raise ValueError("a certificate of credit states credits, not hours")
        if self.kind == "participation" and (self.hours is None or self.hours <= 0):
            raise ValueError("a certificate of participation states the hours attended (above 0)")
        if self.kind == "participation" and self.credits is not None:
            raise ValueError("a certificate of participation awards no credit")
        if self.credits is not None and self.credits > self.designated_maximum:
            raise ValueError("credits awarded exceed the designated maximum")
        return self

    @model_validator(mode="after")
    def _check_issued_after_the_activity(self) -> Self:
        if self.session_dates and self.issued_on < self.session_dates[-1]:
            raise ValueError(
                f"issue date {self.issued_on} is before the last session attended "
                f"({self.session_dates[-1]})"
            )
        return self

    @model_validator(mode="after")
    def _check_dates_in_order(self) -> Self:
        if list(self.session_dates) != sorted(set(self.session_dates)):
            raise ValueError("session dates must be distinct and in order")
        return self

    @model_validator(mode="after")
    def _check_text_is_printable(self) -> Self:
        texts = {
            "name": self.name,
            "credentials": self.credentials,
            "number": self.number,
            "series_title": self.series_title,
            "learning_format": self.learning_format,
            "location": self.location,
            "provider": self.provider,
            "accreditor": self.accreditor,
            **{f"joint provider {i + 1}": p for i, p in enumerate(self.joint_providers)},
            **{f"facilitator {i + 1}": f.name for i, f in enumerate(self.facilitators)},
        }
        for field, text in texts.items():
            bad = _unprintable(text)
            if bad:
                shown = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(bad))
                raise ValueError(f"{field} contains control or format characters ({shown})")
        return self

    @property
    def claims(self) -> CertificateClaims:
        """What the verification code binds."""
        return CertificateClaims(
            number=self.number,
            version=self.version,
            kind=self.kind,
            name=self.name,
            credentials=self.credentials,
            series_id=self.series_id,
            series_title=self.series_title,
            session_dates=self.session_dates,
            credits=self.credits,
            hours=self.hours,
            credit_type=self.credit_type,
            designated_maximum=self.designated_maximum,
            issued_on=self.issued_on,
            provider=self.provider,
            joint_providers=self.joint_providers,
            accreditor=self.accreditor,
        )

    @property
    def verification_code(self) -> str:
        """The printed code, e.g. "k3fa9c12e.ABCD-EFGH-IJKL-MNOP-QRST-UVWX"."""
        return self.seal.code

    @property
    def qr_payload(self) -> str:
        """What the QR code encodes: the verify URL, or the code alone.

        In the URL, the scheme and host (case-insensitive, RFC 3986) and the code (read back in
        any case) are upper-cased, so they fit the QR code's alphanumeric mode (5.5 bits a
        character instead of 8); the rest of the path keeps its case.
        """
        if not self.verify_url:
            return self.seal.code
        parts = urlsplit(self.verify_url)
        head = f"{parts.scheme}://{parts.netloc}"
        rest = self.verify_url[len(head) :] if self.verify_url.startswith(head) else ""
        if not rest and not self.verify_url.startswith(head):
            return self.verify_url
        code = quote(self.seal.code, safe="")
        return head.upper() + rest.replace(code, code.upper())

    @property
    def credit_phrase_designated(self) -> str:
        """ "AMA PRA Category 1 Credit(s)™", as the designation statement writes it."""
        return credit_phrase(self.credit_type, plural=None)

    @property
    def credit_phrase_awarded(self) -> str:
        """ "AMA PRA Category 1 Credits™" (or "Credit™" for exactly 1.0)."""
        return credit_phrase(self.credit_type, plural=self.credits != 1)
