"""Enrolment: the rule for adding a person to a series' roster.

One job: registration (open or closed), eligibility (physicians only or clinicians) and roster
closing (when the first session starts, unless the series allows late joining), applied as of a
time the caller gives. Pure: no files, and no clock (the time comes in as an argument).
"""

from __future__ import annotations

from datetime import datetime

from balint_cme.errors import EnrollmentError, InvalidArgumentError
from balint_cme.model import Participant, Series

__all__ = ["enroll"]


def enroll(series: Series, participant: Participant, *, at: datetime) -> Series:
    """Add `participant` to the roster as of `at`, enforcing registration, eligibility and
    roster closing.

    Raises:
        EnrollmentError: registration is closed, the person is not eligible or is already
            enrolled, or the roster closed when the first session started and the series does
            not allow late joining.
        InvalidArgumentError: `at` has no time zone (also a ValueError).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidArgumentError("enrollment time must be time-zone aware")
    if series.participant(participant.id) is not None:
        raise EnrollmentError(
            f"{participant.name} ({participant.id}) is already enrolled in {series.id!r}",
            participant_id=participant.id,
        )
    if series.registration == "closed":
        raise EnrollmentError(
            f"{participant.name} ({participant.id}) cannot enroll in {series.id!r}: registration "
            "is closed (add the person to the series file's roster if the group agrees)",
            participant_id=participant.id,
        )
    if series.eligibility == "physicians" and not series.policy.is_physician(participant):
        raise EnrollmentError(
            f"{participant.name} ({participant.id}, {participant.credentials}) cannot enroll in "
            f"{series.id!r}: the series is for physicians only",
            participant_id=participant.id,
        )
    first = series.first_start
    if first is not None and at >= first and not series.allow_late_joining:
        raise EnrollmentError(
            f"{participant.name} ({participant.id}) cannot enroll in {series.id!r}: the roster "
            f"closed when the first session started ({first.astimezone(series.zone):%Y-%m-%d %H:%M %Z})",
            participant_id=participant.id,
        )
    return series.evolve(participants=(*series.participants, participant))
