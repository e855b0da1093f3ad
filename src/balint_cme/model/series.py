"""The series and its sessions: when they meet, for how long, for how much credit.

Session, the recurrence it was planned from (expanded in schedule.py, dateutil's home), and
Series with the invariants across its sessions, facilitators and roster. The longest record
module on purpose: Series' cross-field rules read best in one place. Pure: no files, no clock.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from balint_cme.credit_rounding import quarter_hours
from balint_cme.model.base import CreditPoints, DomainModel, SeriesId, Text, TimeZoneName
from balint_cme.model.people import (
    Facilitator,
    FacilitatorLink,
    Participant,
    Provider,
    _link_facilitators,
)
from balint_cme.model.policy import CreditDesignation, CreditPolicy

__all__ = [
    "Recurrence",
    "Series",
    "SeriesProfile",
    "Session",
    "SessionMove",
    "facilitator_links",
]


class SessionMove(DomainModel):
    """A planned session moved to another local start."""

    planned_on: date
    """The local date the recurrence gave."""
    start: datetime
    """The new start: local wall-clock time in the series time zone, or, when it carries an
    offset ("2020-11-19T02:45:00Z"), that instant shown in the series zone."""


class Recurrence(DomainModel):
    """How sessions were planned: an RFC 5545 RRULE from a first local start.

    Times are naive wall-clock times in the series time zone, so a March and a November session
    both start at 6:45 PM local across a daylight-saving change. Expansion lives in schedule.py.
    """

    first_start: datetime
    duration_minutes: Annotated[int, Field(gt=0, le=1440)]
    rrule: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    cancelled: tuple[date, ...] = ()
    """Local dates the rule gives on which no session is held."""
    moved: tuple[SessionMove, ...] = ()

    @model_validator(mode="after")
    def _check_rule_is_finite(self) -> Self:
        parts = {
            part.split("=", 1)[0].strip().upper()
            for part in self.rrule.removeprefix("RRULE:").split(";")
        }
        if not parts & {"COUNT", "UNTIL"}:
            raise ValueError("rrule needs COUNT or UNTIL so that the schedule ends")
        if self.first_start.tzinfo is not None:
            raise ValueError("first_start is a local time without an offset")
        return self


class Session(DomainModel):
    """One meeting of the series. `starts_at` is None while its date is still to be announced."""

    number: Annotated[int, Field(ge=1)]
    """1-based position in the series."""
    starts_at: AwareDatetime | None
    duration_minutes: Annotated[int, Field(gt=0, le=1440)]
    credit: CreditPoints
    """Designated maximum for this session: live credit is hour-for-hour, so at most the
    session's length in quarter hours (60 minutes: 1.00)."""

    @model_validator(mode="after")
    def _check_credit_is_hour_for_hour(self) -> Self:
        # The length rounded as attendance is (ties down), so a full attender earns exactly
        # the designation and nobody is told "partial attendance" for sitting through it all.
        most = quarter_hours(self.duration_minutes * 60)
        if self.credit > most:
            raise ValueError(
                f"session {self.number} is designated {self.credit} credit, but live credit is "
                f"hour-for-hour: its {self.duration_minutes} minutes allow at most {most}"
            )
        return self

    @property
    def is_dated(self) -> bool:
        """Whether the session has a date."""
        return self.starts_at is not None

    @property
    def ends_at(self) -> datetime | None:
        """End of the session window, or None when undated."""
        if self.starts_at is None:
            return None
        # Elapsed time, not wall-clock arithmetic (which aware datetimes in one zone do), so a
        # session across a daylight-saving change ends when the credit engine says it does.
        end = self.starts_at.astimezone(UTC) + timedelta(minutes=self.duration_minutes)
        return end.astimezone(self.starts_at.tzinfo)


# ---------------------------------------------------------------------------------------------
# The series


class SeriesProfile(DomainModel):
    """What a series is and who provides it: the part the domain Series and the series file
    (io/series_file.py) share, field for field."""

    id: SeriesId
    title: Text
    learning_format: Text = "live activity"
    delivery: Literal["virtual", "in-person", "hybrid"] = "virtual"
    location: Text = "Online"
    timezone: TimeZoneName
    eligibility: Literal["physicians", "clinicians"] = "clinicians"
    """"physicians": only physicians may enroll; "clinicians": others enroll for participation."""
    registration: Literal["open", "closed"] = "closed"
    allow_late_joining: bool = False
    """Whether people may enroll after the first session has started."""
    members_commit_to_all_sessions: bool = True
    provider: Provider
    credit: CreditDesignation
    policy: CreditPolicy = CreditPolicy()


class Series(SeriesProfile):
    """A Balint group series: who provides it, when it meets, who leads and who attends."""

    schedule: Recurrence | None = None
    """How the sessions were planned, when they came from a recurrence (provenance)."""
    schedule_note: str | None = None
    """Free text for people about dates still to come, e.g. "Dates: 2023 TBD"."""
    sessions: tuple[Session, ...]
    facilitators: tuple[Facilitator, ...] = ()
    participants: tuple[Participant, ...] = ()

    @model_validator(mode="after")
    def _check_sessions_numbered_in_date_order(self) -> Self:
        if not self.sessions:
            raise ValueError("a series needs at least one session (dated or planned)")
        numbers = [session.number for session in self.sessions]
        if numbers != list(range(1, len(self.sessions) + 1)):
            raise ValueError("sessions must be numbered 1, 2, 3, ... in order")
        dated = [s.starts_at for s in self.sessions if s.starts_at is not None]
        if any(later <= earlier for earlier, later in itertools.pairwise(dated)):
            raise ValueError("sessions must be listed in date order, one start per session")
        undated_seen = False
        for session in self.sessions:
            if session.starts_at is None:
                undated_seen = True
            elif undated_seen:
                raise ValueError("undated (planned) sessions must come after the dated ones")
        for before, after in zip(self.sessions, self.sessions[1:], strict=False):
            if before.ends_at and after.starts_at and after.starts_at < before.ends_at:
                raise ValueError(
                    f"session {after.number} starts before session {before.number} ends"
                )
        return self

    @model_validator(mode="after")
    def _check_roster_ids_unique(self) -> Self:
        seen: set[str] = set()
        for participant in self.participants:
            if participant.id in seen:
                raise ValueError(f"participant id {participant.id!r} appears twice")
            seen.add(participant.id)
        return self

    @model_validator(mode="after")
    def _check_roster_meets_eligibility(self) -> Self:
        if self.eligibility == "physicians":
            for participant in self.participants:
                if not self.policy.is_physician(participant):
                    raise ValueError(
                        f"{participant.name} ({participant.id}, {participant.credentials}) "
                        "cannot enroll: this series is for physicians only"
                    )
        return self

    @model_validator(mode="after")
    def _check_facilitators_lead_existing_sessions(self) -> Self:
        planned = self._sessions_by_planned_date()
        cancelled = set(self.schedule.cancelled) if self.schedule is not None else set()
        shifting = self.schedule is not None and bool(
            self.schedule.cancelled or self.schedule.moved
        )
        for facilitator in self.facilitators:
            for key in facilitator.leads:
                if isinstance(key, date):
                    if key not in planned and key not in cancelled:
                        raise ValueError(
                            f"facilitator {facilitator.name} leads the session of {key}, but no "
                            "session is planned on that date"
                        )
                    continue
                if key > len(self.sessions):
                    raise ValueError(
                        f"facilitator {facilitator.name} leads session {key}, "
                        f"but the series has {len(self.sessions)}"
                    )
                if shifting:
                    held = self.held_on(self.sessions[key - 1])
                    raise ValueError(
                        f"facilitator {facilitator.name} leads session {key} by number, but this "
                        "schedule cancels or moves sessions, which shifts the numbers: name the "
                        f'session by its planned date instead, e.g. leads = ["{held}"] '
                        f"(session {key} is now held on {held})"
                    )
        problems = _link_facilitators(self.facilitators, self.participants)[1]
        if problems:
            raise ValueError(problems[0])
        return self

    @model_validator(mode="after")
    def _check_maximum_within_designations(self) -> Self:
        if self.credit.series_maximum > sum((s.credit for s in self.sessions), Decimal(0)):
            raise ValueError(
                f"series_maximum {self.credit.series_maximum} exceeds the sum of the sessions' "
                "designated credit"
            )
        return self

    # -- lookups -------------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The series time zone."""
        return ZoneInfo(self.timezone)

    @property
    def dated_sessions(self) -> tuple[Session, ...]:
        """The sessions whose dates are known."""
        return tuple(s for s in self.sessions if s.starts_at is not None)

    @property
    def first_start(self) -> datetime | None:
        """When the first dated session starts."""
        dated = self.dated_sessions
        return dated[0].starts_at if dated else None

    @property
    def last_session_on(self) -> date | None:
        """Local date of the last dated session (retention runs from it)."""
        dated = self.dated_sessions
        return self.held_on(dated[-1]) if dated else None

    def held_on(self, session: Session) -> date | None:
        """The local date a session is held on, or None when undated."""
        if session.starts_at is None:
            return None
        return session.starts_at.astimezone(self.zone).date()

    def local_start(self, session: Session) -> datetime | None:
        """The session start as wall-clock time in the series time zone."""
        if session.starts_at is None:
            return None
        return session.starts_at.astimezone(self.zone)

    def local_end(self, session: Session) -> datetime | None:
        """The session end (elapsed time, Session.ends_at) as wall-clock time in the series
        time zone: a 60-minute session across a daylight-saving change ends 60 minutes later."""
        end = session.ends_at
        return None if end is None else end.astimezone(self.zone)

    def session(self, number: int) -> Session | None:
        """Session `number` (1-based), or None."""
        if 1 <= number <= len(self.sessions):
            return self.sessions[number - 1]
        return None

    def _sessions_by_planned_date(self) -> dict[date, int]:
        """Session number by local date: the date held, and for a moved session also the date
        the schedule planned it for."""
        by_date: dict[date, int] = {}
        for session in self.sessions:
            held = self.held_on(session)
            if held is not None:
                by_date[held] = session.number
        if self.schedule is not None:
            for move in self.schedule.moved:
                number = by_date.get(move.start.date())
                if number is not None:
                    by_date.setdefault(move.planned_on, number)
        return by_date

    def led_sessions(self, facilitator: Facilitator) -> frozenset[int]:
        """The numbers of the sessions `facilitator` leads (a cancelled date leads nothing)."""
        if not facilitator.leads:
            return frozenset(s.number for s in self.sessions)
        planned = self._sessions_by_planned_date()
        numbers: set[int] = set()
        for key in facilitator.leads:
            if isinstance(key, date):
                if key in planned:
                    numbers.add(planned[key])
            else:
                numbers.add(key)
        return frozenset(numbers)

    def participant(self, participant_id: str) -> Participant | None:
        """The roster entry with this id, or None."""
        for participant in self.participants:
            if participant.id == participant_id:
                return participant
        return None


def facilitator_links(series: Series) -> tuple[FacilitatorLink, ...]:
    """Which facilitators are also on the roster, so they earn nothing for what they lead.

    The rule (pure; used by the credit engine, certify and check alike): a facilitator's
    `participant_id` links them to that roster entry; otherwise their e-mail (case-folded)
    matching exactly one roster entry's e-mail or e-mail alias links them; otherwise their
    normalised name (person_name_key) matching exactly one roster entry's name does. A match
    with several entries, or a participant_id contradicted by the e-mail, is refused when the
    Series is built, so a valid Series always links unambiguously.
    """
    return _link_facilitators(series.facilitators, series.participants)[0]
