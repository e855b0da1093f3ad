"""The base of every domain record and the small value types the records are made of.

DomainModel (frozen, no unknown fields), the annotated value types (Text, CreditPoints, ids,
zone names, e-mail) and the English month names. Pure: no files, no clock, no edges.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from balint_cme.credit_rounding import QUARTER
from balint_cme.text import find_unsafe

__all__ = [
    "MONTH_NAMES",
    "CreditPoints",
    "DomainModel",
    "Email",
    "ParticipantId",
    "SeriesId",
    "Text",
    "TimeZoneName",
]


MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""English month names (certificates and messages are in English, whatever the locale)."""


class DomainModel(BaseModel):
    """Base for every domain record: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def evolve(self, **changes: object) -> Self:
        """Return a validated copy with `changes` applied."""
        # model_copy(update=...) skips validation; model_validate keeps every invariant.
        return self.model_validate({**dict(self), **changes})

    @classmethod
    def _from_trusted(cls, values: dict[str, Any]) -> Self:
        """Build without validation from values this package computed from validated inputs.

        What model_construct() does, minus its per-field bookkeeping, which dominates the
        credit engine's time for 100,000+ results; every field must be present in `values`.
        """
        record = object.__new__(cls)
        object.__setattr__(record, "__dict__", values)
        object.__setattr__(record, "__pydantic_fields_set__", set(values))
        object.__setattr__(record, "__pydantic_extra__", None)
        object.__setattr__(record, "__pydantic_private__", None)
        return record


# ---------------------------------------------------------------------------------------------
# Small value types


def _check_quarter(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("credit must be a finite number")
    if value % QUARTER != 0:
        raise ValueError(f"credit {value} is not a multiple of 0.25")
    return value.quantize(Decimal("0.01"))


def _coerce_decimal(value: object) -> object:
    # TOML and JSON give credits as strings ("1.0") or numbers (1.0, 1); a float goes through
    # its shortest repr so 0.25 stays exactly 0.25.
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/Los_Angeles)") from err
    return value


def _check_one_plain_line(value: str) -> str:
    unsafe = find_unsafe(value)
    if unsafe is not None:
        name = unicodedata.name(unsafe, "a control character")
        raise ValueError(
            f"contains U+{ord(unsafe):04X} ({name.lower()}): text here is one plain line, "
            "without line breaks, control characters or direction overrides"
        )
    return value


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_check_one_plain_line),
]
"""A non-empty, trimmed line of text: no line break, control character or bidi override (they
would break one-line output and manifests, or make printed text lie about its bytes)."""

CreditPoints = Annotated[
    Decimal,
    BeforeValidator(_coerce_decimal),
    Field(ge=0, le=1000),
    AfterValidator(_check_quarter),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json"),
]
"""Credit or hours as a Decimal multiple of 0.25, two decimals; JSON carries it as "1.00"."""

SeriesId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]
"""A series' stable identifier: letters, digits, '.', '_' and '-', safe in file names."""

ParticipantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""A roster identifier, stable across series so a transcript can find the same person."""

TimeZoneName = Annotated[str, AfterValidator(_check_zone)]
"""An IANA time-zone name such as "America/Los_Angeles"."""

Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
