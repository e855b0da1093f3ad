"""How claims are written on the page: credit amounts, dates, the credit phrase.

Pure text functions shared by the content builder, the renderer and the verifier (which checks
that the page shows what the claims say). US English, independent of the process locale.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from balint_cme.model import MONTH_NAMES, ama_credit_phrase, canonical_credit_type

__all__ = [
    "credit_phrase",
    "format_amount",
    "format_date",
    "format_dates",
    "format_hours",
    "join_names",
]


def format_amount(value: Decimal) -> str:
    """A credit or hour amount with one or two decimals: 5.00 → "5.0", 4.75 → "4.75".

    One decimal is how designations are usually written ("a maximum of 5.0"); quarters need two.
    """
    text = f"{value.quantize(Decimal('0.01')):f}"
    return text[:-1] if text.endswith("0") else text


def format_hours(value: Decimal) -> str:
    """ "4.75 hours", "1.0 hour"."""
    return f"{format_amount(value)} {'hour' if value == 1 else 'hours'}"


def credit_phrase(credit_type: str, *, plural: bool | None) -> str:
    """The credit name with the ™ the AMA requires: "AMA PRA Category 1 Credits™".

    `plural=None` writes the template's "Credit(s)™"; True and False pick the number. Any
    spelling of the AMA name ("Credit", "Credits", "Credit(s)", with or without ™) gives the
    template's exact forms. Series files accept nothing else; a credit type from an older
    record that is not the AMA name is written as it was then, so its certificate still reads
    as issued.
    """
    if canonical_credit_type(credit_type) is not None:
        return ama_credit_phrase(plural=plural)
    base = credit_type.strip().removesuffix("™").strip()
    suffix = "(s)" if plural is None else ("s" if plural else "")
    mark = "™" if base.upper().startswith("AMA PRA") else ""
    return f"{base}{suffix}{mark}"


def format_date(day: date) -> str:
    """ "September 9, 2020"."""
    return f"{MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


def join_names(parts: Sequence[str]) -> str:
    """ "A", "A and B", "A, B and C": how the certificate lists names and dates."""
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def format_dates(days: Sequence[date]) -> str:
    """Session dates grouped by year: "September 9, October 14 and November 11, 2020; January
    13, 2021"."""
    groups = []
    for year, in_year in itertools.groupby(sorted(days), key=lambda d: d.year):
        parts = [f"{MONTH_NAMES[d.month - 1]} {d.day}" for d in in_year]
        groups.append(f"{join_names(parts)}, {year}")
    return "; ".join(groups)
