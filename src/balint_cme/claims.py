"""Claims: may this person claim this much credit for this series?

One job: check a claimed amount (a non-negative multiple of 0.25) against the award the credit
engine computes, and refuse an over-claim with the sessions that fall short. The amount check
(credit_amount) is shared with transcripts' targets. Pure: no files, no clock, no edges.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation

from balint_cme.attendance import AttendanceRegister
from balint_cme.credit import CreditAward, award_credit
from balint_cme.credit_rounding import QUARTER
from balint_cme.errors import ClaimError, InvalidArgumentError, UnknownParticipantError
from balint_cme.model import CreditPolicy, Series

__all__ = ["credit_amount", "validate_claim"]


def credit_amount(value: object, *, what: str, at_most: Decimal | None = None) -> Decimal:
    """`value` ("4.75", 4.75, 5, Decimal) as a Decimal credit amount with two places.

    Raises:
        InvalidArgumentError: `value` is not a finite, non-negative multiple of 0.25 (or is
            above `at_most`); the message starts with `what` (also a ValueError).
    """
    amount: Decimal | None = None
    if isinstance(value, Decimal | str | int | float) and not isinstance(value, bool):
        with contextlib.suppress(InvalidOperation):  # also "1E+999999": too large to divide
            parsed = Decimal(str(value).strip())
            if parsed.is_finite() and parsed >= 0 and parsed % QUARTER == 0:
                amount = (parsed + 0).quantize(Decimal("0.01"))  # + 0: no "-0.00"
    if amount is None:
        raise InvalidArgumentError(f"{what} must be a non-negative multiple of 0.25, not {value!r}")
    if at_most is not None and amount > at_most:
        raise InvalidArgumentError(f"{what} must be at most {at_most}, not {value!r}")
    return amount


def validate_claim(
    series: Series,
    register: AttendanceRegister,
    participant_id: str,
    claimed: Decimal | str | int,
    *,
    policy: CreditPolicy | None = None,
) -> CreditAward:
    """Check that `participant_id` may claim `claimed` credits for `series`; return the award.

    Raises:
        ClaimError: the claim exceeds the supported credit; the message names the person, the
            claimed and supported credit and the sessions that fall short.
        UnknownParticipantError: the person is not on the roster.
        InvalidArgumentError: `claimed` is not a non-negative multiple of 0.25 (also a
            ValueError).
    """
    amount = credit_amount(claimed, what="a claim")
    if series.participant(participant_id) is None:
        raise UnknownParticipantError(participant_id, series_id=series.id)
    award = award_credit(series, register, participant_id, policy=policy)
    if amount > award.points:
        raise ClaimError(
            participant_id=participant_id,
            name=award.name,
            series_id=series.id,
            claimed=amount,
            supported=award.points,
            short_sessions=award.shortfalls,
        )
    return award
