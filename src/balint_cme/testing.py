"""Hypothesis strategies for balint_cme's domain types, for property tests downstream.

Other society tools that validate credit claims can generate series, rosters and attendance:

    from hypothesis import given
    from balint_cme.testing import series_with_attendance

    @given(series_with_attendance())
    def test_my_claims_never_exceed_the_engine(case):
        series, register = case
        ...

Needs hypothesis (`pip install "balint-cme[testing]"`). Not imported by `import balint_cme`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from balint_cme.attendance import AttendanceRecord, AttendanceRegister
from balint_cme.model import (
    CreditDesignation,
    CreditPolicy,
    Facilitator,
    Participant,
    Provider,
    Recurrence,
    Series,
    Session,
)

__all__ = [
    "TIME_ZONES",
    "attendance_for",
    "credit_points",
    "credit_policies",
    "participants",
    "recurrences",
    "series",
    "series_with_attendance",
]

TIME_ZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Warsaw",
    "Asia/Ho_Chi_Minh",
    "Australia/Lord_Howe",
    "UTC",
)
"""Zones with and without daylight saving, including a half-hour shift."""

_NAMES = (
    "Ana Ruiz",
    "Zoë Ångström",
    "Nguyễn Thị Minh Anh",
    "Tomasz Wiśniewski",
    "José Núñez",
    "Αθηνά Παπαδοπούλου",
    "Ольга Смирнова",
    "Priya Raghunathan",
)
_CREDENTIALS = ("MD", "DO", "MBBS", "MFT", "NP", "PhD", "MD, PhD", "LCSW")


def credit_points(max_quarters: int = 8) -> st.SearchStrategy[Decimal]:
    """Decimal multiples of 0.25 from 0.25 to max_quarters/4."""
    return st.integers(1, max_quarters).map(
        lambda q: (Decimal("0.25") * q).quantize(Decimal("0.01"))
    )


def credit_policies() -> st.SearchStrategy[CreditPolicy]:
    """Any valid credit policy."""
    return st.builds(
        CreditPolicy,
        tie_rule=st.sampled_from(["down", "up"]),
        minimum_minutes=st.integers(0, 20).map(Decimal),
        all_or_nothing_ratio=st.none()
        | st.sampled_from([Decimal("0.5"), Decimal("0.75"), Decimal(1)]),
        participation_certificates=st.booleans(),
    )


def participants(participant_id: str) -> st.SearchStrategy[Participant]:
    """A roster entry with the given id."""
    return st.builds(
        Participant,
        id=st.just(participant_id),
        name=st.sampled_from(_NAMES),
        credentials=st.sampled_from(_CREDENTIALS),
    )


def recurrences() -> st.SearchStrategy[Recurrence]:
    """Finite weekly or monthly rules from an evening local start."""
    rules = st.one_of(
        st.integers(1, 12).map(lambda n: f"FREQ=MONTHLY;BYDAY=+2WE;COUNT={n}"),
        st.integers(1, 12).map(lambda n: f"FREQ=WEEKLY;COUNT={n}"),
        st.integers(1, 6).map(lambda n: f"FREQ=MONTHLY;INTERVAL=2;COUNT={n}"),
        st.dates(min_value=date(2021, 1, 1), max_value=date(2027, 1, 1)).map(
            lambda d: f"FREQ=MONTHLY;UNTIL={d:%Y%m%d}T235959"
        ),
    )
    return st.builds(
        Recurrence,
        first_start=st.builds(
            datetime,
            year=st.integers(2019, 2026),
            month=st.integers(1, 12),
            day=st.integers(1, 28),
            hour=st.integers(17, 20),
            minute=st.sampled_from([0, 15, 30, 45]),
        ),
        duration_minutes=st.sampled_from([60, 75, 90]),
        rrule=rules,
    )


@st.composite
def series(draw: st.DrawFn, *, max_sessions: int = 6, max_participants: int = 5) -> Series:
    """A dated series with explicit sessions, a roster and facilitators, in a random zone."""
    zone_name = draw(st.sampled_from(TIME_ZONES))
    zone = ZoneInfo(zone_name)
    count = draw(st.integers(1, max_sessions))
    # Drawn as UTC instants and shown in the zone, so no start falls in a daylight-saving gap
    # (a wall-clock time that does not exist, which series files refuse).
    first = (
        draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2027, 12, 31)))  # noqa: DTZ001
        .replace(second=0, microsecond=0, tzinfo=UTC)
        .astimezone(zone)
    )
    gaps = draw(st.lists(st.integers(1, 45), min_size=count, max_size=count))
    sessions = []
    start = first
    for number, gap in enumerate(gaps, start=1):
        duration = draw(st.sampled_from([30, 60, 90]))
        credit = draw(credit_points(max(1, duration // 15)))
        sessions.append(
            Session(number=number, starts_at=start, duration_minutes=duration, credit=credit)
        )
        start = (start.astimezone(UTC) + timedelta(days=gap)).astimezone(zone)
    designated = sum((s.credit for s in sessions), Decimal(0))
    maximum_quarters = draw(st.integers(1, int(designated / Decimal("0.25"))))
    roster_size = draw(st.integers(1, max_participants))
    roster = tuple(draw(participants(f"p{i:02d}")) for i in range(1, roster_size + 1))
    leader = draw(st.none() | st.sampled_from([p.id for p in roster]))
    facilitators = (
        Facilitator(name="Rochelle Frank", credentials="MD"),
        *(
            [Facilitator(name="Lead Learner", credentials="MD", participant_id=leader, leads=(1,))]
            if leader
            else []
        ),
    )
    return Series(
        id="generated-series",
        title="Generated Balint Group",
        timezone=zone_name,
        provider=Provider(accredited="Example Medical Society", accreditor="ACCME"),
        credit=CreditDesignation(
            per_session=sessions[0].credit,
            series_maximum=(Decimal("0.25") * maximum_quarters).quantize(Decimal("0.01")),
        ),
        policy=draw(credit_policies()),
        sessions=tuple(sessions),
        facilitators=facilitators,
        participants=roster,
    )


def attendance_for(
    subject: Series, *, max_intervals: int = 4
) -> st.SearchStrategy[tuple[AttendanceRecord, ...]]:
    """Join/leave records for the roster of `subject`, some before, after or across the window."""
    choices = [
        (p.id, s.number, s.starts_at, s.duration_minutes)
        for p in subject.participants
        for s in subject.sessions
        if s.starts_at is not None
    ]

    @st.composite
    def records(draw: st.DrawFn) -> tuple[AttendanceRecord, ...]:
        out: list[AttendanceRecord] = []
        for participant_id, number, starts_at, duration in choices:
            assert starts_at is not None
            for _ in range(draw(st.integers(0, max_intervals))):
                offset = draw(st.integers(-20 * 60, (duration + 10) * 60))
                length = draw(st.integers(0, (duration + 30) * 60))
                joined = starts_at + timedelta(seconds=offset)
                out.append(
                    AttendanceRecord(
                        participant_id=participant_id,
                        session=number,
                        joined_at=joined,
                        left_at=joined + timedelta(seconds=length),
                    )
                )
        return tuple(out)

    return records()


@st.composite
def series_with_attendance(draw: st.DrawFn) -> tuple[Series, AttendanceRegister]:
    """A generated series and a register of attendance for it."""
    subject = draw(series())
    return subject, AttendanceRegister(draw(attendance_for(subject)))
