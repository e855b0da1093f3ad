"""Members commit to every session: who missed which held session, for the coordinator's follow-up.

A Balint group keeps the same members so trust can build, and registrants commit to attend every
session (`members_commit_to_all_sessions` in the series file). This module turns the credit
engine's per-session results into a follow-up list: sessions a member missed entirely, and
sessions they attended only in part. Only sessions whose attendance is known count (a session
with no report yet is nobody's absence), and a session a person leads is never an absence.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from balint_cme.credit import CreditAward
from balint_cme.model import DomainModel, Series

__all__ = ["FollowUp", "SessionAbsence", "plan_follow_ups"]


class SessionAbsence(DomainModel):
    """One held session a member did not attend in full."""

    session: Annotated[int, Field(ge=1)]
    held_on: date
    status: Literal["missed", "partial"]
    """"missed": not present at all; "partial": present for less than the whole session."""
    attended_seconds: Annotated[int, Field(ge=0)]
    session_seconds: Annotated[int, Field(gt=0)]


class FollowUp(DomainModel):
    """A member with at least one absence, and how to reach them."""

    participant_id: str
    name: str
    email: str | None
    absences: tuple[SessionAbsence, ...]

    @property
    def missed(self) -> tuple[SessionAbsence, ...]:
        """The sessions missed entirely."""
        return tuple(a for a in self.absences if a.status == "missed")


def plan_follow_ups(
    series: Series, awards: Sequence[CreditAward], held_sessions: Collection[int]
) -> tuple[FollowUp, ...]:
    """Every member who missed (or only partly attended) a held session, in roster order.

    Args:
        series: the series (its roster gives e-mail addresses).
        awards: award_series() results for the same attendance.
        held_sessions: numbers of the sessions whose attendance is known (a report was read);
            other sessions are not counted as absences.
    """
    follow_ups = []
    for award in awards:
        absences = []
        for result in award.sessions:
            session = series.session(result.session)
            if result.session not in held_sessions or result.led or session is None:
                continue
            length = session.duration_minutes * 60
            if result.attended_seconds >= length:
                continue
            absences.append(
                SessionAbsence(
                    session=result.session,
                    held_on=result.held_on,
                    status="missed" if result.attended_seconds == 0 else "partial",
                    attended_seconds=result.attended_seconds,
                    session_seconds=length,
                )
            )
        if absences:
            person = series.participant(award.participant_id)
            follow_ups.append(
                FollowUp(
                    participant_id=award.participant_id,
                    name=award.name,
                    email=None if person is None or person.email is None else str(person.email),
                    absences=tuple(absences),
                )
            )
    return tuple(follow_ups)
