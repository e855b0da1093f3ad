"""Schedule expansion: RRULEs in local time, DST, cancellations, moves, finiteness."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from pydantic import ValidationError

from balint_cme import Recurrence, ScheduleError, SessionMove, plan_session_dates, plan_sessions
from balint_cme.schedule import planned_sessions
from balint_cme.testing import recurrences

LA = "America/Los_Angeles"


def monthly(rule: str = "FREQ=MONTHLY;BYDAY=+2WE;COUNT=5", **changes: object) -> Recurrence:
    base = Recurrence(first_start=datetime(2020, 9, 9, 18, 45), duration_minutes=60, rrule=rule)
    return base.evolve(**changes) if changes else base


def test_second_wednesday_monthly_gives_the_seed_dates() -> None:
    starts = plan_session_dates(monthly(), LA)
    assert [s.date() for s in starts] == [
        date(2020, 9, 9),
        date(2020, 10, 14),
        date(2020, 11, 11),
        date(2020, 12, 9),
        date(2021, 1, 13),
    ]


def test_sessions_keep_local_time_across_daylight_saving() -> None:
    rule = Recurrence(
        first_start=datetime(2024, 2, 14, 18, 45),
        duration_minutes=60,
        rrule="FREQ=MONTHLY;BYDAY=+2WE;COUNT=10",
    )
    starts = plan_session_dates(rule, LA)
    march = next(s for s in starts if s.month == 3)
    november = next(s for s in starts if s.month == 11)
    assert march.timetz().replace(tzinfo=None) == time(18, 45)
    assert november.timetz().replace(tzinfo=None) == time(18, 45)
    # The UTC offsets differ: 6:45 PM PDT in March is 01:45 UTC, PST in November 02:45 UTC.
    assert march.astimezone(ZoneInfo("UTC")).hour == 1
    assert november.astimezone(ZoneInfo("UTC")).hour == 2


def test_cancelled_and_moved_dates_are_applied() -> None:
    rule = monthly(
        cancelled=(date(2020, 11, 11),),
        moved=(SessionMove(planned_on=date(2020, 12, 9), start=datetime(2020, 12, 16, 19, 0)),),
    )
    starts = plan_session_dates(rule, LA)
    assert [s.date() for s in starts] == [
        date(2020, 9, 9),
        date(2020, 10, 14),
        date(2020, 12, 16),
        date(2021, 1, 13),
    ]
    assert starts[2].hour == 19


def test_cancelling_a_date_the_rule_does_not_give_is_an_error() -> None:
    with pytest.raises(
        ScheduleError, match="cancelled date 2020-11-12 is not a date the rrule gives"
    ):
        plan_session_dates(monthly(cancelled=(date(2020, 11, 12),)), LA)


def test_rule_without_count_or_until_is_refused() -> None:
    with pytest.raises(ValidationError, match="COUNT or UNTIL"):
        monthly("FREQ=MONTHLY;BYDAY=+2WE")


def test_malformed_rule_names_the_rule() -> None:
    with pytest.raises(ScheduleError, match="FREQ=SOMETIMES"):
        plan_session_dates(monthly("FREQ=SOMETIMES;COUNT=2"), LA)


def test_rule_giving_too_many_sessions_is_refused() -> None:
    with pytest.raises(ScheduleError, match="more than 500"):
        plan_session_dates(monthly("FREQ=DAILY;COUNT=100000"), LA)


def test_start_in_a_daylight_saving_gap_is_refused() -> None:
    rule = Recurrence(
        first_start=datetime(2021, 3, 14, 2, 30), duration_minutes=60, rrule="FREQ=WEEKLY;COUNT=1"
    )
    with pytest.raises(ScheduleError, match="does not exist in America/Los_Angeles"):
        plan_session_dates(rule, LA)


def test_plan_sessions_numbers_from_one_with_designated_credit() -> None:
    sessions = plan_sessions(monthly(), LA, Decimal("1.0"))
    assert [s.number for s in sessions] == [1, 2, 3, 4, 5]
    assert all(s.credit == Decimal("1.00") and s.duration_minutes == 60 for s in sessions)


def test_planned_sessions_have_no_dates() -> None:
    sessions = planned_sessions(4, 60, Decimal("1.0"))
    assert [s.is_dated for s in sessions] == [False] * 4
    assert sessions[0].ends_at is None


@given(recurrences())
def test_planned_dates_are_strictly_increasing_finite_and_local(recurrence: Recurrence) -> None:
    try:
        starts = plan_session_dates(recurrence, LA)
    except ScheduleError:
        return  # e.g. an UNTIL before the first start gives no sessions: refused, not looped
    assert 1 <= len(starts) <= 500
    assert all(earlier < later for earlier, later in itertools.pairwise(starts))
    # RFC 5545 via dateutil: a first_start the rule does not match is not itself a session.
    assert starts[0].replace(tzinfo=None) >= recurrence.first_start
    wall_clock = recurrence.first_start.time()
    assert all(s.timetz().replace(tzinfo=None) == wall_clock for s in starts)
    if "COUNT=" in recurrence.rrule:
        count = int(recurrence.rrule.split("COUNT=")[1].split(";")[0])
        assert len(starts) <= count


def test_moving_a_session_onto_another_session_s_date_is_refused() -> None:
    rule = monthly(
        moved=(SessionMove(planned_on=date(2020, 12, 9), start=datetime(2020, 11, 11, 19, 0)),)
    )
    with pytest.raises(ScheduleError, match="already has a session"):
        plan_session_dates(rule, LA)


def test_rule_with_two_sessions_a_day_is_refused() -> None:
    with pytest.raises(ScheduleError, match="two sessions on 2020-09-09"):
        plan_session_dates(monthly("FREQ=HOURLY;COUNT=3"), LA)
