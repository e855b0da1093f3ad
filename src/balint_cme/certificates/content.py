"""Certificate: exactly what a certificate says, and build_certificate() from a credit award.

Pure: no reportlab, no files, no clock. The certificate number and issue date are inputs. The
designation and accreditation statements are generated from the series data with the wording
of docs/rules.md §3; the claims are sealed with the provider's key (verification.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Annotated, Literal, Self
from urllib.parse import quote, urlsplit

from pydantic import Field, StringConstraints, ValidationError, model_validator

from balint_cme.certificates.formatting import credit_phrase, join_names
from balint_cme.certificates.keys import SigningKey
from balint_cme.certificates.seal import CertificateClaims, Seal, seal_claims
from balint_cme.certificates.wording import designated_maximum
from balint_cme.credit import CreditAward, certificate_decision
from balint_cme.errors import CertificateError
from balint_cme.model import CreditPoints, DomainModel, Provider, Series, Text

__all__ = [
    "Certificate",
    "CertificateNumber",
    "FacilitatorSignature",
    "accreditation_statement",
    "accreditor_short_name",
    "build_certificate",
    "designation_statement",
    "eligible_awards",
    "refusal_reason",
    "verify_url_template",
]

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


# ---------------------------------------------------------------------------------------------
# Statements (docs/rules.md §3)


def accreditor_short_name(accreditor: str) -> str:
    """The parenthesised abbreviation if there is one ("... Association (CMA)" → "CMA"),
    else the full name."""
    match = re.search(r"\(([^()]+)\)\s*$", accreditor)
    return match.group(1).strip() if match else accreditor.strip()


def _the(name: str) -> str:
    """`name` after "the" in running text, without doubling a leading "The"."""
    return name[4:] if name.lower().startswith("the ") else name


def _sentence_start(name: str) -> str:
    return name[:1].upper() + name[1:]


def designation_statement(series: Series) -> str:
    """The AMA designation statement, with the credit phrase as the template writes it."""
    provider = _the(series.provider.accredited)
    maximum = designated_maximum(series.credit.series_maximum, series.credit.type)
    return (
        f"The {provider} designates this {series.learning_format} for a maximum of {maximum}. "
        "Physicians should claim only the credit commensurate with the extent of "
        "their participation in the activity."
    )


def accreditation_statement(provider: Provider) -> str:
    """The accreditation statement, jointly or directly provided, naming the accreditor."""
    accredited = provider.accredited
    accreditor = _the(provider.accreditor)
    short = _the(accreditor_short_name(provider.accreditor))
    if provider.is_joint:
        return (
            "This activity has been planned and implemented in accordance with the "
            f"accreditation requirements and policies of the {accreditor} through the joint "
            f"providership of {join_names([accredited, *provider.joint])}. "
            f"{_sentence_start(accredited)} is accredited by the {short} to provide continuing "
            "medical education for physicians."
        )
    return (
        f"{_sentence_start(accredited)} is accredited by the {accreditor} to provide continuing "
        "medical education for physicians."
    )


# ---------------------------------------------------------------------------------------------
# Building


def refusal_reason(series: Series, award: CreditAward) -> str | None:
    """Why `award` earns no certificate, or None when it earns one (certificate_decision)."""
    return certificate_decision(series, award).reason


def eligible_awards(series: Series, awards: Iterable[CreditAward]) -> tuple[CreditAward, ...]:
    """The awards that earn a certificate (of credit or of participation), in the given order."""
    return tuple(award for award in awards if refusal_reason(series, award) is None)


def verify_url_template(url: str) -> str:
    """The template for certificates' verify URLs from a society's verify address.

    A template with `{code}` is kept as given ("https://example.org/verify/#{code}", for a
    static site). A plain address is a `balint-cme serve` site: certificates point to
    "<address>/v/{code}" ("https://cme.example.org" -> "https://cme.example.org/v/{code}").

    Raises:
        CertificateError: not an http(s) address, or it holds spaces or control characters.
    """
    text = url.strip()
    parts = urlsplit(text.replace("{code}", "c").replace("{number}", "n"))
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or any(c.isspace() or unicodedata.category(c).startswith("C") for c in text)
        or len(text) > 300
    ):
        raise CertificateError(
            f"the verify URL {url!r} is not an http(s) address like https://cme.example.org"
        )
    if "{code}" in text:
        return text
    return text.rstrip("/") + "/v/{code}"


def build_certificate(
    series: Series,
    award: CreditAward,
    *,
    number: str,
    issued_on: date,
    version: int = 1,
    key: SigningKey,
    verify_url_template: str | None = None,
) -> Certificate:
    """The certificate `award` earns, numbered and dated as given, sealed with `key`.

    `verify_url_template` may contain `{code}` and `{number}` (URL-quoted on substitution),
    e.g. "https://cme.example.org/verify?code={code}".

    Raises:
        CertificateError: the person gets no certificate (not enrolled, attended nothing, or a
            non-physician when the series gives no participation certificates), the template
            lacks {code}, or some text cannot be printed.
    """
    decision = certificate_decision(series, award)
    if decision.kind == "none":
        raise CertificateError(
            f"no certificate for {award.name} ({award.participant_id}) in {series.id!r}: "
            f"{decision.reason}"
        )
    if verify_url_template is not None and "{code}" not in verify_url_template:
        raise CertificateError("the verify URL template must contain {code}")
    is_credit = decision.kind == "credit"
    try:
        fields: dict[str, object] = {
            "kind": decision.kind,
            "number": number,
            "version": version,
            "issued_on": issued_on,
            "name": award.name,
            "credentials": award.credentials,
            "series_id": series.id,
            "series_title": series.title,
            "learning_format": series.learning_format,
            "delivery": series.delivery,
            "location": series.location,
            # The sessions the credit came from (participation: the sessions attended).
            "session_dates": tuple(s.held_on for s in decision.sessions),
            "credits": award.points if is_credit else None,
            "hours": None if is_credit else award.participation_hours,
            "credit_type": series.credit.type,
            "designated_maximum": series.credit.series_maximum,
            "provider": series.provider.accredited,
            "joint_providers": series.provider.joint,
            "accreditor": series.provider.accreditor,
            "designation_statement": designation_statement(series),
            "accreditation_statement": accreditation_statement(series.provider),
            "facilitators": tuple(
                FacilitatorSignature(name=f.name, credentials=f.credentials)
                for f in series.facilitators
            ),
        }
        claims = CertificateClaims.model_validate(
            {name: fields[name] for name in CertificateClaims.model_fields}
        )
        seal = seal_claims(claims, key)
        verify_url = None
        if verify_url_template is not None:
            verify_url = verify_url_template.replace("{code}", quote(seal.code, safe="")).replace(
                "{number}", quote(claims.number, safe="")
            )
        return Certificate.model_validate(
            {
                **fields,
                "seal": seal,
                "verify_url": verify_url,
                "participant_id": award.participant_id,
            }
        )
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "certificate"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CertificateError(
            f"cannot build certificate {number!r} for {award.name} ({award.participant_id}): "
            f"{where}: {message}"
        ) from err
