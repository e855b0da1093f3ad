"""The rounding rule of credit: seconds attended to hours in 0.25 steps, ties as policy says.

One job: turn attended seconds into quarter hours with integer arithmetic (never Python's
round(), which rounds half to even). It sits beside the credit engine (credit.py) and below the
domain records, which use it to check that a session's designation is hour-for-hour. Pure: no
files, no clock, no other balint_cme module.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

__all__ = ["QUARTER", "quarter_hours"]

QUARTER = Decimal("0.25")

_QUARTER_VALUES = tuple((QUARTER * q).quantize(Decimal("0.01")) for q in range(4 * 24 + 1))


def quarter_hours(seconds: int, *, ties: Literal["down", "up"] = "down") -> Decimal:
    """Hours for `seconds` rounded to the nearest 0.25 (docs/rules.md §2), ties as `ties` says.

    Integer arithmetic only: 900 s is a quarter hour, 450 s the exact midpoint, so 52.5 minutes
    is a tie and becomes 0.75 under the default rule. Never Python's round() (banker's).
    """
    if seconds <= 0:
        return _QUARTER_VALUES[0]
    quarters, remainder = divmod(seconds, 900)
    if remainder > 450 or (remainder == 450 and ties == "up"):
        quarters += 1
    if quarters < len(_QUARTER_VALUES):
        return _QUARTER_VALUES[quarters]  # the common case, without Decimal arithmetic
    return (QUARTER * quarters).quantize(Decimal("0.01"))
