"""The credit rules as data (CreditPolicy), the AMA credit name and the designation.

What the provider designated in advance and how the engine must apply it; the engine
(credit.py) holds no numbers of its own. Pure: no files, no clock, no edges.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from balint_cme.model.base import CreditPoints, DomainModel, Text, _coerce_decimal
from balint_cme.model.credentials import (
    DEFAULT_PHYSICIAN_CREDENTIALS,
    _held_degrees,
    _normalised_credentials,
)
from balint_cme.model.people import Facilitator, Participant

__all__ = [
    "ACCEPTED_CREDIT_TYPES",
    "AMA_CREDIT",
    "CreditDesignation",
    "CreditPolicy",
    "ama_credit_phrase",
    "canonical_credit_type",
]


class CreditPolicy(DomainModel):
    """The credit rules as data (docs/rules.md §2, "policy knobs"); the engine holds no numbers."""

    tie_rule: Literal["down", "up"] = "down"
    """Which way an exact 7.5-minute midpoint rounds; "down" never over-awards."""
    minimum_minutes: Annotated[Decimal, BeforeValidator(_coerce_decimal), Field(ge=0, le=1440)] = (
        Decimal(0)
    )
    """A session attended for fewer minutes than this earns nothing (beyond rounding)."""
    all_or_nothing_ratio: (
        Annotated[Decimal, BeforeValidator(_coerce_decimal), Field(gt=0, le=1)] | None
    ) = None
    """If set, a session earns its full designated credit when attended for at least this
    share of its length, and nothing otherwise (instead of quarter-hour credit)."""
    participation_certificates: bool = True
    """Whether people who are not physicians get certificates of participation."""
    physician_credentials: tuple[str, ...] = DEFAULT_PHYSICIAN_CREDENTIALS
    """Credentials (any case, punctuation ignored) that make a participant a physician."""

    def is_physician(self, participant: Participant | Facilitator) -> bool:
        """Whether `participant` may receive AMA PRA Category 1 Credit under this policy."""
        if isinstance(participant, Participant) and participant.physician is not None:
            return participant.physician
        allowed = _normalised_credentials(self.physician_credentials)
        # "MD candidate", "DO student": a qualifier says that degree is not held yet; it
        # applies only to the degree it follows ("MD, PhD candidate" is a physician).
        return bool(_held_degrees(participant.credentials) & allowed)


AMA_CREDIT = "AMA PRA Category 1 Credit"
"""The credit name as stored; printed with ™ and "(s)", "s" or nothing by ama_credit_phrase."""

_AMA_CREDIT_SPELLING = re.compile(r"AMA\s+PRA\s+Category\s+1\s+Credit(?:s|\(s\))?\s*™?")
ACCEPTED_CREDIT_TYPES = (
    "AMA PRA Category 1 Credit",
    "AMA PRA Category 1 Credits",
    "AMA PRA Category 1 Credit(s)",
)
"""How a series file may name the credit (each with or without ™)."""


def canonical_credit_type(text: str) -> str | None:
    """AMA_CREDIT for any spelling of the AMA credit name (singular, plural, "(s)", with or
    without ™), else None."""
    return AMA_CREDIT if _AMA_CREDIT_SPELLING.fullmatch(text.strip()) else None


def ama_credit_phrase(*, plural: bool | None) -> str:
    """The AMA credit name as the templates print it: "AMA PRA Category 1 Credit(s)™" in the
    designation statement (`plural=None`), "…Credits™" or "…Credit™" for an amount awarded."""
    suffix = "(s)" if plural is None else ("s" if plural else "")
    return f"{AMA_CREDIT}{suffix}™"


def _check_credit_type(value: str) -> str:
    canonical = canonical_credit_type(value)
    if canonical is None:
        accepted = ", ".join(ACCEPTED_CREDIT_TYPES)
        raise ValueError(
            f"credit type {value!r} is not the AMA credit name; write one of: {accepted} "
            "(with or without ™)"
        )
    return canonical


class CreditDesignation(DomainModel):
    """What the provider designated in advance (docs/rules.md §2)."""

    type: Annotated[Text, AfterValidator(_check_credit_type)] = AMA_CREDIT
    """The AMA credit name in any accepted spelling, stored as AMA_CREDIT; certificates print
    the template's forms ("Credit(s)™" designated, "Credits™"/"Credit™" awarded)."""
    per_session: CreditPoints
    """Designated credit for each session unless the session says otherwise."""
    series_maximum: CreditPoints
    """The cap for the whole series, e.g. 5.00 for five one-hour sessions."""
