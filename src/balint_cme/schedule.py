"""Recurrence → planned sessions. The only module that imports dateutil.

Expansion happens on naive wall-clock times and is then placed in the series time zone, so a
session planned for 6:45 PM stays at 6:45 PM local on both sides of a daylight-saving change.
Must not import the edges (certificates, io, ledger, cli).
"""

from __future__ import annotations

import re
from datetime import MAXYEAR, UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from balint_cme.errors import ScheduleError
from balint_cme.model import MONTH_NAMES, Recurrence, Session

__all__ = [
    "HORIZON_YEARS",
    "MAX_PLANNED_SESSIONS",
    "place_local",
    "plan_session_dates",
    "plan_sessions",
    "planned_sessions",
]

MAX_PLANNED_SESSIONS = 500
"""More sessions than any series holds; a rule that gives more is taken for a mistake."""

HORIZON_YEARS = 10
"""A recurrence's sessions fall within this many years of its first start; a rule that runs
longer (or never matches) is taken for a mistake, and no rule is scanned much further."""


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


_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_NOT_SUPPORTED = ("BYEASTER",)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _year_shape(year: int) -> tuple[bool, int]:
    return _is_leap(year), date(year, 1, 1).weekday()


def _scan_year(first_year: int) -> int:
    """A year whose calendar matches `first_year`'s, close enough to datetime.MAXYEAR that
    expanding a rule from it ends within a few decades whatever the rule.

    dateutil checks UNTIL only on dates the rule matches, so a rule that never (or rarely)
    matches is scanned day by day up to year 9999: 8 seconds and more. Expanding a copy moved
    to a year with the same calendar (same leap years and weekdays, for the whole horizon and
    a year either side) gives the same dates, moved, and stops at 9999 instead. A shift by
    400 years always keeps the Gregorian calendar; a closer match (28 years apart between
    century years) is found for every year but those near a non-leap century year.
    """
    wanted = [_year_shape(first_year + offset) for offset in range(-1, HORIZON_YEARS + 2)]
    latest = MAXYEAR - HORIZON_YEARS - 1
    for candidate in range(latest, latest - 400, -1):
        if [_year_shape(candidate + o) for o in range(-1, HORIZON_YEARS + 2)] == wanted:
            return candidate
    raise AssertionError("the Gregorian calendar repeats every 400 years")  # pragma: no cover


def _until(text: str, rule: str, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    """The local (naive) end of an UNTIL value, and the UTC instant when it was given in UTC.

    A date alone includes that whole local day; a time without "Z" is local to the series;
    the RFC 5545 UTC form ("20210114T024500Z") is the instant, converted to the series zone.
    """
    value = text.strip().upper()
    try:
        if re.fullmatch(r"\d{8}", value):
            return datetime.combine(date.fromisoformat(value), time.max), None
        if re.fullmatch(r"\d{8}T\d{6}", value):
            return datetime.fromisoformat(value), None  # local wall-clock time
        if re.fullmatch(r"\d{8}T\d{6}Z", value):
            instant = datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
            return instant.astimezone(zone).replace(tzinfo=None), instant
    except (ValueError, OverflowError):
        pass
    raise ScheduleError(
        f"rrule {rule!r}: UNTIL={text.strip()} is not a date (20210113), a local time "
        "(20210113T184500) or a UTC time (20210114T024500Z)"
    )


def _check_parts(rule: str) -> None:
    """Refuse what a series cannot mean before dateutil sees it.

    Raises:
        ScheduleError: several lines, a frequency finer than a day, a dateutil extension, or
            BYMONTHDAY values that no month of BYMONTH has (e.g. February 30).
    """
    if "\n" in rule.strip() or "\r" in rule:
        raise ScheduleError(
            f"rrule {rule!r} must be one RRULE line (put skipped and moved dates in "
            "`cancelled` and `moved`)"
        )
    parts: dict[str, str] = {}
    for part in rule.strip().removeprefix("RRULE:").split(";"):
        name, _, value = part.partition("=")
        parts[name.strip().upper()] = value.strip().upper()
    frequency = parts.get("FREQ")
    if frequency is not None and frequency not in _FREQUENCIES:
        known = frequency in ("HOURLY", "MINUTELY", "SECONDLY")
        if known:
            raise ScheduleError(
                f"rrule {rule!r}: FREQ={frequency} would meet several times a day; a series "
                f"meets at most once a day (FREQ={', '.join(_FREQUENCIES)})"
            )
    for name in _NOT_SUPPORTED:
        if name in parts:
            raise ScheduleError(f"rrule {rule!r}: {name} is not part of RFC 5545")
    try:
        months = [int(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else []
        days = [int(d) for d in parts["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in parts else []
    except ValueError:
        return  # malformed: dateutil names the problem
    if days and all(1 <= m <= 12 for m in months):
        longest = max((_DAYS_IN_MONTH[m - 1] for m in months), default=31)
        if all(abs(d) > longest for d in days):
            where = "any month" if not months else " or ".join(MONTH_NAMES[m - 1] for m in months)
            raise ScheduleError(
                f"rrule {rule!r} can never give a session: BYMONTHDAY={parts['BYMONTHDAY']} "
                f"is not a day of {where}"
            )


def _expand(recurrence: Recurrence, zone: ZoneInfo) -> list[datetime]:
    """The naive local starts the rule gives, within HORIZON_YEARS of the first start.

    Raises:
        ScheduleError: as plan_session_dates.
    """
    text = recurrence.rrule
    _check_parts(text)
    first = recurrence.first_start
    until: datetime | None = None
    until_instant: datetime | None = None
    if not 1 < first.year < MAXYEAR - HORIZON_YEARS - 1:
        raise ScheduleError(f"first_start {first:%Y-%m-%d} is out of range")
    kept = []
    for part in text.strip().removeprefix("RRULE:").split(";"):
        name, _, value = part.partition("=")
        if name.strip().upper() == "UNTIL":
            until, until_instant = _until(value, recurrence.rrule, zone)
        else:
            kept.append(part)
    text = ";".join(kept)
    limit = _add_years(first, HORIZON_YEARS)
    if until is not None and until < first:
        raise ScheduleError(
            f"rrule {recurrence.rrule!r} gives no sessions: UNTIL is before the first start "
            f"({first:%Y-%m-%d %H:%M})"
        )
    if until is not None and until > limit:
        raise ScheduleError(
            f"rrule {recurrence.rrule!r}: UNTIL is more than {HORIZON_YEARS} years after the "
            f"first start ({first:%Y-%m-%d}); a series that long is taken for a mistake"
        )
    # Expanded in a year with the same calendar near 9999, so that the work is bounded
    # (a few decades of dateutil's day-by-day scan) whatever the rule; see _scan_year.
    shift = _scan_year(first.year) - first.year
    try:
        rule = rrulestr(text, dtstart=first)
        if not isinstance(rule, rrule):
            raise ScheduleError(f"rrule {recurrence.rrule!r} must be one RRULE")
        moved = rule.replace(
            dtstart=_add_years(first, shift),
            until=None if until is None else _add_years(until, shift),
        )
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as err:
        raise ScheduleError(f"rrule {recurrence.rrule!r} is not valid: {err}") from err
    moved_limit = _add_years(limit, shift)
    starts: list[datetime] = []
    try:
        for start in moved:
            if start > moved_limit:
                raise ScheduleError(
                    f"rrule {recurrence.rrule!r} gives sessions more than {HORIZON_YEARS} "
                    f"years after the first start ({first:%Y-%m-%d}); a series that long is "
                    "taken for a mistake"
                )
            starts.append(_add_years(start, -shift))
            if len(starts) > MAX_PLANNED_SESSIONS:
                raise ScheduleError(
                    f"rrule {recurrence.rrule!r} gives more than {MAX_PLANNED_SESSIONS} sessions"
                )
    except (ValueError, TypeError, OverflowError) as err:
        raise ScheduleError(f"rrule {recurrence.rrule!r} cannot be expanded: {err}") from err
    count = getattr(rule, "_count", None)
    if until is None and isinstance(count, int) and len(starts) < count:
        # The copy ran out of calendar (year 9999) before COUNT: beyond the horizon.
        raise ScheduleError(
            f"rrule {recurrence.rrule!r} gives {len(starts)} of its COUNT={count} sessions "
            f"within {HORIZON_YEARS} years of the first start ({first:%Y-%m-%d})"
            + ("; it may never match (e.g. February 30)" if not starts else "")
        )
    if until_instant is not None:
        # Converted to local wall-clock time above; an hour that repeats when clocks fall
        # back is settled here on the instant itself.
        starts = [s for s in starts if _place(s, zone) <= until_instant]
    return starts


def _place(local: datetime, zone: ZoneInfo) -> datetime:
    try:
        return place_local(local, zone)
    except ScheduleError:
        return local.replace(tzinfo=zone)  # a gap time: refused later, with its message


def _add_years(moment: datetime, years: int) -> datetime:
    """`moment` moved by whole years (29 February to 28 February where the year has none)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def plan_session_dates(recurrence: Recurrence, timezone: str) -> tuple[datetime, ...]:
    """The local starts (aware, in `timezone`) the recurrence gives, after cancellations and moves.

    The rule's sessions must fall within HORIZON_YEARS of its first start; the work done is
    bounded whatever the rule (see _scan_year). UNTIL may be a date (that whole local day is
    included), a local time, or a UTC time (RFC 5545 "20210114T024500Z"). A moved session's
    start is local unless it carries an offset, which is respected.

    Raises:
        ScheduleError: the RRULE is malformed, can never match, gives no or too many
            sessions or sessions past the horizon, a cancelled or moved date is not one the
            rule gives, or a start falls in a daylight-saving gap.
    """
    zone = ZoneInfo(timezone)
    starts = _expand(recurrence, zone)

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
        # An offset is respected (as in [[sessions]]): the instant, shown in the series zone.
        local = (
            move.start
            if move.start.tzinfo is None
            else move.start.astimezone(zone).replace(tzinfo=None)
        )
        if local.date() in by_date:
            raise ScheduleError(
                f"session of {move.planned_on} is moved to {local.date()}, "
                "which already has a session"
            )
        by_date[local.date()] = local
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
