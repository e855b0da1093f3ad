"""The words a certificate page prints, in one place: every phrase, label and its emphasis.

The page design (page.py) draws these spans and decides sizes, places and colours; the
verifier's `printed_claims`, the public verification answer and the designation statement
take their phrases from here too, so a phrase is never built twice and what a check says the
page shows is what the page shows. Pure text: no drawing library, no PDF library.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, NamedTuple

from balint_cme.certificates.formatting import (
    credit_phrase,
    format_amount,
    format_date,
    format_dates,
    format_hours,
    join_names,
)
from balint_cme.certificates.seal import CertificateClaims

if TYPE_CHECKING:  # content imports this module (for the designated maximum)
    from balint_cme.certificates.content import Certificate

__all__ = [
    "CERTIFIES",
    "FACILITATOR",
    "Span",
    "Style",
    "award_spans",
    "credits_text",
    "delivery_words",
    "designated_maximum",
    "designation_spans",
    "document_title",
    "drawn_texts",
    "footer_rows",
    "heading",
    "joint_providers_line",
    "participation_line",
    "participation_text",
    "person_line",
    "place_and_sessions",
    "printed_claims",
    "signer_label",
    "text_of",
]

Style = Literal["regular", "bold", "italic"]


class Span(NamedTuple):
    """A piece of text in one style and colour (None: the line's colour)."""

    text: str
    style: Style = "regular"
    colour: str | None = None


def text_of(spans: Sequence[Span]) -> str:
    """The text a run of spans prints."""
    return "".join(span.text for span in spans)


CERTIFIES = "This certifies that"
FACILITATOR = "Facilitator"
_OF_PARTICIPATION = " of participation"


def heading(kind: str) -> str:
    """The page's title, as written before the design upper-cases it."""
    return "Certificate of Credit" if kind == "credit" else "Certificate of Participation"


def document_title(certificate: Certificate) -> str:
    """The PDF's document title: "Certificate of credit FMMS-2020-0007: Zoë Ångström"."""
    kind = (
        "Certificate of credit" if certificate.kind == "credit" else "Certificate of participation"
    )
    return f"{kind} {certificate.number}: {certificate.name}"


def joint_providers_line(joint_providers: Sequence[str]) -> str:
    """ "in joint providership with A and B"."""
    return "in joint providership with " + join_names(joint_providers)


def person_line(name: str, credentials: str) -> str:
    """ "Zoë Ångström, DO" (the name alone without credentials)."""
    return name + (f", {credentials}" if credentials else "")


def participation_line(learning_format: str) -> str:
    """ "has participated in the live activity"."""
    return f"has participated in the {learning_format}"


def delivery_words(delivery: str) -> str:
    """How the page describes the delivery after the location."""
    return {
        "virtual": "live, virtual",
        "in-person": "in person",
        "hybrid": "in person and live virtual",
    }[delivery]


def place_and_sessions(certificate: Certificate, label_colour: str) -> list[Span]:
    """ "Location: Online (live, virtual)   ·   Sessions attended: September 9, 2020"."""
    sessions = (
        "Session attended: " if len(certificate.session_dates) == 1 else "Sessions attended: "
    )
    return [
        Span("Location: ", colour=label_colour),
        Span(f"{certificate.location} ({delivery_words(certificate.delivery)})"),
        Span("   ·   "),
        Span(sessions, colour=label_colour),
        Span(format_dates(certificate.session_dates)),
    ]


def _credit_spans(credits: Decimal, credit_type: str) -> list[Span]:
    return [
        Span(format_amount(credits) + " ", "bold"),
        Span(credit_phrase(credit_type, plural=credits != 1), "italic"),
    ]


def credits_text(credits: Decimal, credit_type: str) -> str:
    """The credit awarded as printed: "1.75 AMA PRA Category 1 Credits™"."""
    return text_of(_credit_spans(credits, credit_type))


def participation_text(hours: Decimal) -> str:
    """The participation as printed: "2.0 hours of participation"."""
    return format_hours(hours) + _OF_PARTICIPATION


def designated_maximum(maximum: Decimal, credit_type: str) -> str:
    """The designated maximum as the designation statement writes it: "5.0 AMA PRA Category 1
    Credit(s)™"."""
    return f"{format_amount(maximum)} {credit_phrase(credit_type, plural=None)}"


def award_spans(certificate: Certificate) -> list[Span]:
    """ "and is awarded 1.75 AMA PRA Category 1 Credits™." or, for participation, "for 2.0 hours
    of participation. This certificate awards no AMA PRA Category 1 Credit™."."""
    if certificate.kind == "credit":
        assert certificate.credits is not None
        return [
            Span("and is awarded "),
            *_credit_spans(certificate.credits, certificate.credit_type),
            Span("."),
        ]
    assert certificate.hours is not None
    return [
        Span("for "),
        Span(format_hours(certificate.hours), "bold"),
        Span(_OF_PARTICIPATION + ". This certificate awards no "),
        Span(certificate.credit_phrase_designated.replace("(s)", ""), "italic"),
        Span("."),
    ]


def designation_spans(statement: str, phrase: str) -> list[Span]:
    """The designation statement with its credit phrase in italics."""
    before, found, after = statement.partition(phrase)
    if not found:
        return [Span(statement)]
    return [Span(before), Span(phrase, "italic"), Span(after)]


def signer_label(name: str, credentials: str) -> str:
    """A facilitator under the signature line: "Name, credentials", as a person is named."""
    return person_line(name, credentials)


def footer_rows(certificate: Certificate, label_colour: str) -> list[list[Span]]:
    """The footer: issue date and number, the verification code, where to verify."""
    muted = label_colour
    rows: list[list[Span]] = [
        [
            Span("Date of issue: ", colour=muted),
            Span(format_date(certificate.issued_on), "bold"),
            Span(" · ", colour=muted),
            Span("Certificate no. ", colour=muted),
            Span(certificate.number, "bold"),
        ]
        + (
            [Span(f"  (version {certificate.version})", colour=muted)]
            if certificate.version > 1
            else []
        ),
        [
            Span("Verification code: ", colour=muted),
            Span(certificate.verification_code, "bold"),
        ],
    ]
    if certificate.verify_url:
        rows.append([Span("Verify at ", colour=muted), Span(certificate.verify_url)])
    else:
        rows.append(
            [
                Span(
                    "To verify, give this code to the provider or scan the QR code.",
                    colour=muted,
                )
            ]
        )
    return rows


def drawn_texts(certificate: Certificate) -> Iterator[tuple[str, str, Style]]:
    """(field, text, style) of every text taken from the certificate that the page draws."""
    yield "name", certificate.name, "bold"
    yield "credentials", certificate.credentials, "bold"
    yield "series_title", certificate.series_title, "bold"
    yield "provider", certificate.provider, "bold"
    for provider in certificate.joint_providers:
        yield "joint_providers", provider, "italic"
    yield "accreditor", certificate.accreditor, "regular"
    yield "location", certificate.location, "regular"
    yield "learning_format", certificate.learning_format, "regular"
    yield "number", certificate.number, "bold"
    yield "designation_statement", certificate.designation_statement, "regular"
    yield "designation_statement", certificate.credit_phrase_designated, "italic"
    yield "accreditation_statement", certificate.accreditation_statement, "regular"
    for facilitator in certificate.facilitators:
        yield "facilitators", facilitator.name + facilitator.credentials, "bold"
    if certificate.verify_url:
        yield "verify_url", certificate.verify_url, "regular"


def printed_claims(claims: CertificateClaims, code: str) -> dict[str, str]:
    """For each claim shown on the page, the exact text the page shows for it."""
    shown = {
        "number": claims.number,
        "name": claims.name,
        "series_title": claims.series_title,
        "session_dates": format_dates(claims.session_dates),
        "issued_on": format_date(claims.issued_on),
        "provider": claims.provider,
        "designated_maximum": designated_maximum(claims.designated_maximum, claims.credit_type),
        "code": code,
    }
    if claims.credentials:
        shown["credentials"] = claims.credentials
    if claims.credits is not None:
        shown["credits"] = credits_text(claims.credits, claims.credit_type)
    if claims.hours is not None:
        shown["hours"] = format_hours(claims.hours)
    return shown
