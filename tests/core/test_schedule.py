"""Schedule expansion: RRULEs in local time, DST, cancellations, moves, finiteness."""

from __future__ import annotations

import calendar
import itertools
from datetime import MAXYEAR, date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from balint_cme import Recurrence, ScheduleError, SessionMove, plan_session_dates, plan_sessions
from balint_cme.io.series_file import load_series
from balint_cme.schedule import HORIZON_YEARS, _scan_year, planned_sessions
from balint_cme.testing import TIME_ZONES, recurrences
from tests.conftest import EXAMPLES

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
    starts = plan_session_dates(recurrence, LA)  # the strategy draws only rules that give some
    assert 1 <= len(starts) <= 500
    assert all(earlier < later for earlier, later in itertools.pairwise(starts))
    # RFC 5545 via dateutil: a first_start the rule does not match is not itself a session.
    assert starts[0].replace(tzinfo=None) >= recurrence.first_start
    wall_clock = recurrence.first_start.time()
    moved_to = {move.start.date() for move in recurrence.moved}
    assert all(
        s.timetz().replace(tzinfo=None) == wall_clock for s in starts if s.date() not in moved_to
    )
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
        plan_session_dates(monthly("FREQ=DAILY;BYHOUR=18,19;COUNT=3"), LA)


def test_frequency_finer_than_a_day_is_refused() -> None:
    with pytest.raises(ScheduleError, match="at most once a day"):
        plan_session_dates(monthly("FREQ=HOURLY;COUNT=3"), LA)


# -- issue 10 item 7: a moved start with an offset is the instant it names --------------------


def test_moved_start_with_an_offset_is_placed_like_a_sessions_entry() -> None:
    utc_form = monthly(
        moved=(
            SessionMove(
                planned_on=date(2020, 11, 11),
                start=datetime(2020, 11, 19, 2, 45, tzinfo=ZoneInfo("UTC")),
            ),
        )
    )
    local_form = monthly(
        moved=(SessionMove(planned_on=date(2020, 11, 11), start=datetime(2020, 11, 18, 18, 45)),)
    )
    starts = plan_session_dates(utc_form, LA)
    assert starts == plan_session_dates(local_form, LA)
    assert starts[2] == datetime(2020, 11, 18, 18, 45, tzinfo=ZoneInfo(LA))


def test_moved_start_from_a_series_file_with_z_offset(tmp_path: Path) -> None:
    text = (EXAMPLES / "ssvms-balint-2020.toml").read_text(encoding="utf-8")
    text = text.replace(
        'rrule = "FREQ=MONTHLY;BYDAY=+2WE;COUNT=5"',
        'rrule = "FREQ=MONTHLY;BYDAY=+2WE;COUNT=5"\n'
        'moved = [{ planned_on = 2020-11-11, start = "2020-11-19T02:45:00Z" }]',
    )
    path = tmp_path / "series.toml"
    path.write_text(text, encoding="utf-8")
    series = load_series(path)
    third = series.local_start(series.sessions[2])
    assert third is not None
    assert (third.date(), third.hour, third.minute) == (date(2020, 11, 18), 18, 45)


# -- issue 10 item 11: UNTIL as a date, a local time, or RFC 5545 UTC -------------------------


def test_date_only_until_includes_that_whole_local_day() -> None:
    starts = plan_session_dates(monthly("FREQ=MONTHLY;BYDAY=+2WE;UNTIL=20210113"), LA)
    assert starts[-1] == datetime(2021, 1, 13, 18, 45, tzinfo=ZoneInfo(LA))
    assert len(starts) == 5


def test_utc_until_is_accepted_and_converted_to_the_series_zone() -> None:
    # 2021-01-14 02:45 UTC is 6:45 PM on 13 January in Los Angeles: that session is included.
    starts = plan_session_dates(monthly("FREQ=MONTHLY;BYDAY=+2WE;UNTIL=20210114T024500Z"), LA)
    assert len(starts) == 5
    assert starts[-1] == datetime(2021, 1, 13, 18, 45, tzinfo=ZoneInfo(LA))
    # One second earlier, it is not.
    earlier = plan_session_dates(monthly("FREQ=MONTHLY;BYDAY=+2WE;UNTIL=20210114T024459Z"), LA)
    assert len(earlier) == 4


def test_local_until_keeps_its_meaning() -> None:
    starts = plan_session_dates(monthly("FREQ=MONTHLY;BYDAY=+2WE;UNTIL=20210113T184500"), LA)
    assert len(starts) == 5


def test_malformed_until_names_the_accepted_forms() -> None:
    with pytest.raises(ScheduleError, match=r"UNTIL=2021-01-13 is not a date \(20210113\)"):
        plan_session_dates(monthly("FREQ=MONTHLY;BYDAY=+2WE;UNTIL=2021-01-13"), LA)


# -- issue 11 item 8: an impossible rule is refused, and no rule is scanned for long ----------


def test_impossible_rule_from_the_issue_is_refused_by_name() -> None:
    rule = monthly("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=1")
    with pytest.raises(ScheduleError, match="can never give a session: BYMONTHDAY=30"):
        plan_session_dates(rule, LA)


@pytest.mark.parametrize(
    "rule",
    [
        # Possible dates, but never on the days the interval steps on (every 7th day is a
        # Wednesday, never a Tuesday): no structural check sees it, the bounded scan does.
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU;COUNT=1",
        # 29 February on a Monday: too rare for ten years.
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=3",
        "FREQ=YEARLY;COUNT=12",
    ],
)
def test_rules_that_run_past_the_horizon_are_refused(rule: str) -> None:
    with pytest.raises(ScheduleError, match=f"within {HORIZON_YEARS} years|more than"):
        plan_session_dates(monthly(rule), LA)


def test_until_before_the_first_start_is_refused_at_once() -> None:
    with pytest.raises(ScheduleError, match="UNTIL is before the first start"):
        plan_session_dates(monthly("FREQ=DAILY;INTERVAL=7;BYDAY=TU;UNTIL=20200101"), LA)


def test_until_past_the_horizon_is_refused() -> None:
    with pytest.raises(ScheduleError, match="UNTIL is more than 10 years after"):
        plan_session_dates(monthly("FREQ=MONTHLY;BYDAY=+2WE;UNTIL=20990101"), LA)


@given(st.integers(1900, 2200))
def test_the_rule_is_expanded_in_a_year_near_9999_with_the_same_calendar(year: int) -> None:
    # The structural bound: dateutil scans day by day until a match or year 9999, so the copy
    # it expands starts at most a few decades before 9999, whatever the rule.
    scan_year = _scan_year(year)
    assert MAXYEAR - scan_year <= HORIZON_YEARS + 1 + 400
    if not any(y % 100 == 0 and y % 400 != 0 for y in range(year - 1, year + HORIZON_YEARS + 2)):
        assert MAXYEAR - scan_year <= HORIZON_YEARS + 1 + 28 + 1
    for offset in range(-1, HORIZON_YEARS + 2):
        same = date(scan_year + offset, 1, 1).weekday() == date(year + offset, 1, 1).weekday()
        assert same
        assert calendar.isleap(scan_year + offset) == calendar.isleap(year + offset)


@given(recurrences(), st.sampled_from(TIME_ZONES))
def test_expansion_in_the_moved_year_equals_plain_dateutil(
    recurrence: Recurrence, zone: str
) -> None:
    # Within the horizon, the moved expansion gives exactly what dateutil gives in place
    # (for the forms dateutil reads as RFC 5545 means them: COUNT, or UNTIL as a local time).
    assume("UNTIL" not in recurrence.rrule or recurrence.rrule.endswith("T235959"))
    plain = list(rrulestr(recurrence.rrule, dtstart=recurrence.first_start))
    starts = plan_session_dates(recurrence.evolve(cancelled=(), moved=()), zone)
    assert [s.replace(tzinfo=None) for s in starts] == plain
