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

from datetime import UTC, date, datetime, time, timedelta
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
    SessionMove,
)
from balint_cme.schedule import plan_session_dates, plan_sessions

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
_PHYSICIAN_CREDENTIALS = ("MD", "DO", "MBBS", "MD, PhD", "MD, PhD candidate", "DO, MPH")
_CREDENTIALS = (*_PHYSICIAN_CREDENTIALS, "MFT", "NP", "PhD", "LCSW", "MD candidate")


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


def _physicians(participant_id: str) -> st.SearchStrategy[Participant]:
    return st.builds(
        Participant,
        id=st.just(participant_id),
        name=st.sampled_from(_NAMES),
        credentials=st.sampled_from(_PHYSICIAN_CREDENTIALS),
    )


_PROVIDERS = ("Example Medical Society", "Valley Medical Society", "Coastal Physicians Guild")


@st.composite
def _rules(draw: st.DrawFn, first_start: datetime) -> str:
    """A finite rule that gives at least one session from `first_start`, within the horizon,
    in any of TIME_ZONES: COUNT, or UNTIL as a date, a local time or a UTC time."""
    kind = draw(st.sampled_from(["monthly-2we", "weekly", "bimonthly", "daily", "until"]))
    if kind == "monthly-2we":
        return f"FREQ=MONTHLY;BYDAY=+2WE;COUNT={draw(st.integers(1, 12))}"
    if kind == "weekly":
        return f"FREQ=WEEKLY;COUNT={draw(st.integers(1, 12))}"
    if kind == "bimonthly":
        return f"FREQ=MONTHLY;INTERVAL=2;COUNT={draw(st.integers(1, 6))}"
    if kind == "daily":
        return f"FREQ=DAILY;COUNT={draw(st.integers(1, 5))}"
    # A monthly rule without BY parts meets on first_start itself, so any UNTIL from that day
    # on gives at least one session.
    last = first_start.date() + timedelta(days=draw(st.integers(0, 400)))
    form = draw(st.sampled_from(["date", "local", "utc"]))
    if form == "date":
        return f"FREQ=MONTHLY;UNTIL={last:%Y%m%d}"
    if form == "local":
        return f"FREQ=MONTHLY;UNTIL={last:%Y%m%d}T235959"
    # Two days on at noon UTC is after first_start's local evening in every zone (UTC-12 to
    # UTC+14).
    return f"FREQ=MONTHLY;UNTIL={last + timedelta(days=2):%Y%m%d}T120000Z"


@st.composite
def _recurrence(draw: st.DrawFn, zone_name: str | None = None) -> Recurrence:
    first_start = draw(
        st.builds(
            datetime,
            year=st.integers(2019, 2026),
            month=st.integers(1, 12),
            day=st.integers(1, 28),
            hour=st.integers(17, 20),
            minute=st.sampled_from([0, 15, 30, 45]),
        )
    )
    recurrence = Recurrence(
        first_start=first_start,
        duration_minutes=draw(st.sampled_from([60, 75, 90])),
        rrule=draw(_rules(first_start)),
    )
    # Cancellations and moves are drawn from the dates the rule gives, keeping one session;
    # the dates are the same in every zone (the rule runs on wall-clock time).
    dates = [s.date() for s in plan_session_dates(recurrence, zone_name or "UTC")]
    if len(dates) < 2:
        return recurrence
    chosen = draw(st.lists(st.sampled_from(dates), unique=True, max_size=len(dates) - 1))
    cancelled: list[date] = []
    moved: list[SessionMove] = []
    taken = set(dates)
    for day in sorted(chosen):
        target = day + timedelta(days=1)
        if draw(st.booleans()) or target in taken:
            cancelled.append(day)
            continue
        hour = draw(st.integers(17, 20))
        moved.append(SessionMove(planned_on=day, start=datetime.combine(target, time(hour, 0))))
        taken.add(target)
    return recurrence.evolve(cancelled=tuple(cancelled), moved=tuple(moved))


def recurrences() -> st.SearchStrategy[Recurrence]:
    """Finite daily, weekly or monthly rules from an evening local start, with COUNT or UNTIL
    (date, local time or UTC), cancelled and moved dates; every one gives at least one session
    in every zone of TIME_ZONES."""
    return _recurrence()


@st.composite
def series(draw: st.DrawFn, *, max_sessions: int = 6, max_participants: int = 5) -> Series:
    """A valid series in a random zone: explicit sessions or a recurrence, sometimes followed
    by sessions still to be dated; open to clinicians or physicians only; directly or jointly
    provided; a roster and facilitators, one of whom may lead a session as a roster member."""
    zone_name = draw(st.sampled_from(TIME_ZONES))
    zone = ZoneInfo(zone_name)
    schedule: Recurrence | None = None
    sessions: list[Session] = []
    if draw(st.booleans()):
        schedule = draw(_recurrence(zone_name))
        credit = draw(credit_points(schedule.duration_minutes // 15))
        sessions = list(plan_sessions(schedule, zone_name, credit))[:max_sessions]
        if len(sessions) < len(plan_session_dates(schedule, zone_name)):
            schedule = None  # cut short: the sessions no longer follow the whole rule
    else:
        count = draw(st.integers(1, max_sessions))
        # Drawn as UTC instants and shown in the zone, so no start falls in a daylight-saving
        # gap (a wall-clock time that does not exist, which series files refuse).
        first = (
            draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2027, 12, 31)))  # noqa: DTZ001
            .replace(second=0, microsecond=0, tzinfo=UTC)
            .astimezone(zone)
        )
        gaps = draw(st.lists(st.integers(1, 45), min_size=count, max_size=count))
        start = first
        for number, gap in enumerate(gaps, start=1):
            if start.replace(fold=1 - start.fold).utcoffset() != start.utcoffset():
                # Not in the hour that repeats when clocks fall back: an aware datetime there
                # compares unequal to the same instant in another tzinfo (PEP 495), which
                # would make round-trip properties fail on equal instants.
                start = (start.astimezone(UTC) + timedelta(hours=2)).astimezone(zone)
            duration = draw(st.sampled_from([30, 60, 90]))
            # Live credit is hour-for-hour: never more than the session's quarter hours.
            credit = draw(credit_points(max(1, duration // 15)))
            sessions.append(
                Session(number=number, starts_at=start, duration_minutes=duration, credit=credit)
            )
            start = (start.astimezone(UTC) + timedelta(days=gap)).astimezone(zone)
    # Sessions still to be dated take the designation per session, as a series file gives
    # them ([planned]); 90 minutes allow any per-session credit drawn above.
    per_session = sessions[0].credit
    undated = draw(st.integers(0, 2))
    for number in range(len(sessions) + 1, len(sessions) + undated + 1):
        sessions.append(
            Session(number=number, starts_at=None, duration_minutes=90, credit=per_session)
        )
    designated = sum((s.credit for s in sessions), Decimal(0))
    maximum_quarters = draw(st.integers(1, int(designated / Decimal("0.25"))))
    eligibility = draw(st.sampled_from(["clinicians", "physicians"]))
    roster_size = draw(st.integers(1, max_participants))
    people = participants if eligibility == "clinicians" else _physicians
    roster = tuple(draw(people(f"p{i:02d}")) for i in range(1, roster_size + 1))
    leader = draw(st.none() | st.sampled_from([p.id for p in roster]))
    # The first session is named by number, or, where the schedule cancels or moves sessions
    # (which shifts numbers), by its planned date, as series files must then name it.
    lead_key: int | date = 1
    first_start = sessions[0].starts_at
    if schedule is not None and (schedule.cancelled or schedule.moved) and first_start:
        held = first_start.astimezone(zone).date()
        lead_key = {move.start.date(): move.planned_on for move in schedule.moved}.get(held, held)
    facilitators = (
        Facilitator(name="Rochelle Frank", credentials="MD"),
        *(
            [
                Facilitator(
                    name="Lead Learner", credentials="MD", participant_id=leader, leads=(lead_key,)
                )
            ]
            if leader
            else []
        ),
    )
    joint = draw(st.lists(st.sampled_from(_PROVIDERS[1:]), unique=True, max_size=2))
    return Series(
        id="generated-series",
        title="Generated Balint Group",
        timezone=zone_name,
        eligibility=eligibility,
        provider=Provider(accredited=_PROVIDERS[0], accreditor="ACCME", joint=tuple(joint)),
        credit=CreditDesignation(
            per_session=per_session,
            series_maximum=(Decimal("0.25") * maximum_quarters).quantize(Decimal("0.01")),
        ),
        policy=draw(credit_policies()),
        schedule=schedule,
        schedule_note="Dates to be announced" if undated else None,
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
