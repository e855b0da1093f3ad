"""Recurrence → planned sessions. The only module that imports dateutil.

Expansion happens on naive wall-clock times and is then placed in the series time zone, so a
session planned for 6:45 PM stays at 6:45 PM local on both sides of a daylight-saving change.
Must not import the edges (certificates, io, ledger, cli).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from balint_cme.errors import ScheduleError
from balint_cme.model import Recurrence, Session

__all__ = [
    "MAX_PLANNED_SESSIONS",
    "place_local",
    "plan_session_dates",
    "plan_sessions",
    "planned_sessions",
]

MAX_PLANNED_SESSIONS = 500
"""More sessions than any series holds; a rule that gives more is taken for a mistake."""


def place_local(local: datetime, zone: ZoneInfo) -> datetime:
    """Attach `zone` to a naive local time, refusing one that a DST gap skips.

    Raises:
        ScheduleError: the wall-clock time does not exist in `zone` (spring-forward gap).
    """
    # fold=0 picks the first of two repeated wall-clock times when clocks fall back.
    placed = local.replace(tzinfo=zone)
    round_trip = placed.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if round_trip != local:
        raise ScheduleError(
            f"{local:%Y-%m-%d %H:%M} does not exist in {zone.key}: clocks skip it for "
            "daylight saving; move the session"
        )
    return placed


def plan_session_dates(recurrence: Recurrence, timezone: str) -> tuple[datetime, ...]:
    """The local starts (aware, in `timezone`) the recurrence gives, after cancellations and moves.

    Raises:
        ScheduleError: the RRULE is malformed, gives no or too many sessions, a cancelled or
            moved date is not one the rule gives, or a start falls in a daylight-saving gap.
    """
    zone = ZoneInfo(timezone)
    try:
        rule = rrulestr(recurrence.rrule, dtstart=recurrence.first_start, forceset=True)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as err:
        raise ScheduleError(f"rrule {recurrence.rrule!r} is not valid: {err}") from err
    starts: list[datetime] = []
    try:
        for start in rule:
            starts.append(start)
            if len(starts) > MAX_PLANNED_SESSIONS:
                raise ScheduleError(
                    f"rrule {recurrence.rrule!r} gives more than {MAX_PLANNED_SESSIONS} sessions"
                )
    except (ValueError, TypeError, OverflowError) as err:
        raise ScheduleError(f"rrule {recurrence.rrule!r} cannot be expanded: {err}") from err

    by_date: dict[date, datetime] = {}
    for start in starts:
        if start.date() in by_date:
            raise ScheduleError(
                f"rrule {recurrence.rrule!r} gives two sessions on {start.date()}; "
                "a series meets at most once a day"
            )
        by_date[start.date()] = start
    for cancelled in recurrence.cancelled:
        if cancelled not in by_date:
            raise ScheduleError(f"cancelled date {cancelled} is not a date the rrule gives")
        del by_date[cancelled]
    for move in recurrence.moved:
        if move.planned_on not in by_date:
            raise ScheduleError(f"moved date {move.planned_on} is not a planned session date")
        del by_date[move.planned_on]
        if move.start.date() in by_date:
            raise ScheduleError(
                f"session of {move.planned_on} is moved to {move.start.date()}, "
                "which already has a session"
            )
        by_date[move.start.date()] = move.start.replace(tzinfo=None)
    if not by_date:
        raise ScheduleError(f"rrule {recurrence.rrule!r} gives no sessions")
    return tuple(place_local(local, zone) for local in sorted(by_date.values()))


def plan_sessions(
    recurrence: Recurrence, timezone: str, credit_per_session: Decimal
) -> tuple[Session, ...]:
    """Sessions numbered from 1, each `recurrence.duration_minutes` long.

    Raises:
        ScheduleError: as plan_session_dates.
    """
    return tuple(
        Session(
            number=index,
            starts_at=start,
            duration_minutes=recurrence.duration_minutes,
            credit=credit_per_session,
        )
        for index, start in enumerate(plan_session_dates(recurrence, timezone), start=1)
    )


def planned_sessions(
    count: int, duration_minutes: int, credit_per_session: Decimal
) -> tuple[Session, ...]:
    """`count` sessions whose dates are still to be announced ("Dates: 2023 TBD")."""
    if not 1 <= count <= MAX_PLANNED_SESSIONS:
        raise ScheduleError(
            f"planned session count {count} is not between 1 and {MAX_PLANNED_SESSIONS}"
        )
    return tuple(
        Session(
            number=n, starts_at=None, duration_minutes=duration_minutes, credit=credit_per_session
        )
        for n in range(1, count + 1)
    )
