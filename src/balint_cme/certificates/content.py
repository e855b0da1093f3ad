"""build_certificate() from a credit award: the certificate it earns, checked, then sealed.

Pure: no reportlab, no files, no clock. The certificate number and issue date are inputs. The
designation and accreditation statements are generated from the series data with the wording
of docs/rules.md §3; the claims are sealed with the provider's key (verification.py). The
`Certificate` record itself (its fields and rules) is certificates/certificate.py; it stays
importable from here, where callers have always found it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from urllib.parse import quote, urlsplit

from pydantic import TypeAdapter, ValidationError

from balint_cme.certificates.certificate import (
    Certificate,
    CertificateNumber,
    FacilitatorSignature,
)
from balint_cme.certificates.formatting import join_names
from balint_cme.certificates.keys import SigningKey
from balint_cme.certificates.seal import CertificateClaims, Seal, seal_claims
from balint_cme.certificates.wording import designated_maximum
from balint_cme.credit import CreditAward, certificate_decision
from balint_cme.errors import CertificateError
from balint_cme.model import Provider, Series

__all__ = [
    "DRAFT_NUMBER",
    "UNSEALED",
    "Certificate",
    "CertificateNumber",
    "FacilitatorSignature",
    "accreditation_statement",
    "accreditor_short_name",
    "build_certificate",
    "designation_statement",
    "draft_certificate",
    "eligible_awards",
    "refusal_reason",
    "seal_certificate",
    "verify_url_template",
]

_NUMBER: TypeAdapter[str] = TypeAdapter(CertificateNumber)


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


UNSEALED = Seal(key_id="draft", code="draft.UNSEALED", key_check="", claim_tags=())
"""The placeholder seal of a draft (draft_certificate): a draft is never drawn or issued."""

DRAFT_NUMBER = "DRAFT"
"""The number a draft carries until the ledger assigns one."""


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
    e.g. "https://cme.example.org/verify?code={code}". The same as seal_certificate() of
    draft_certificate(), for callers that know the number before building.

    Raises:
        CertificateError: the person gets no certificate (not enrolled, attended nothing, or a
            non-physician when the series gives no participation certificates), the template
            lacks {code}, or some text cannot be printed.
    """
    draft = draft_certificate(
        series, award, issued_on=issued_on, verify_url_template=verify_url_template
    )
    return seal_certificate(
        draft,
        number=number,
        version=version,
        issued_on=issued_on,
        key=key,
        verify_url_template=verify_url_template,
    )


def draft_certificate(
    series: Series,
    award: CreditAward,
    *,
    issued_on: date,
    verify_url_template: str | None = None,
) -> Certificate:
    """Everything `award`'s certificate says, checked, before the ledger numbers it: numbered
    DRAFT_NUMBER, version 1, dated `issued_on`, with the placeholder seal UNSEALED (its verify
    URL carries a placeholder code). Check it (fonts) and use its claims for the ledger, then
    seal_certificate() gives the certificate to draw. Never draw or issue a draft.

    Raises:
        CertificateError: as build_certificate().
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
    number = DRAFT_NUMBER
    try:
        fields: dict[str, object] = {
            "kind": decision.kind,
            "number": number,
            "version": 1,
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
        return Certificate.model_validate(
            {
                **fields,
                "seal": UNSEALED,
                "verify_url": _verify_url(verify_url_template, UNSEALED.code, number),
                "participant_id": award.participant_id,
            }
        )
    except ValidationError as err:
        raise _build_error(err, number, award.name, award.participant_id) from err


def seal_certificate(
    draft: Certificate,
    *,
    number: str,
    version: int,
    issued_on: date,
    key: SigningKey,
    verify_url_template: str | None = None,
) -> Certificate:
    """`draft` numbered, versioned and dated as the ledger assigned, sealed with `key` (the
    one seal a certificate gets), with its verify URL from `verify_url_template`.

    Raises:
        CertificateError: the number, version or date is not valid for this certificate.
    """
    try:
        values = {
            name: getattr(draft, name)
            for name in CertificateClaims.model_fields
            if name not in ("number", "version", "issued_on")
        }
        claims = CertificateClaims.model_validate(
            {
                **values,
                "number": _NUMBER.validate_python(number),
                "version": version,
                "issued_on": issued_on,
            }
        )
    except ValidationError as err:
        raise _build_error(err, number, draft.name, draft.participant_id) from err
    if claims.version < 1 or claims.issued_on < draft.session_dates[-1]:
        problem = (
            f"version {claims.version} is not 1 or more"
            if claims.version < 1
            else f"issue date {claims.issued_on} is before the last session attended "
            f"({draft.session_dates[-1]})"
        )
        raise CertificateError(
            f"cannot build certificate {number!r} for {draft.name} ({draft.participant_id}): "
            f"{problem}"
        )
    seal = seal_claims(claims, key)
    # The draft's content was checked when it was built; only the ledger's values are new,
    # and the claims just checked them.
    return draft.model_copy(
        update={
            "number": claims.number,
            "version": claims.version,
            "issued_on": claims.issued_on,
            "seal": seal,
            "verify_url": _verify_url(verify_url_template, seal.code, claims.number),
        }
    )


def _verify_url(template: str | None, code: str, number: str) -> str | None:
    if template is None:
        return None
    return template.replace("{code}", quote(code, safe="")).replace(
        "{number}", quote(number, safe="")
    )


def _build_error(
    err: ValidationError, number: str, name: str, participant_id: str
) -> CertificateError:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "certificate"
    message = str(first["msg"]).removeprefix("Value error, ")
    return CertificateError(
        f"cannot build certificate {number!r} for {name} ({participant_id}): {where}: {message}"
    )
