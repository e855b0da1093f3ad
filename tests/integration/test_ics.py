"""iCalendar export: one event per dated session, at the right local time."""

from __future__ import annotations

from datetime import UTC, datetime, time

from icalendar import Calendar

from balint_cme import Series
from balint_cme.io.ics import format_ics

STAMP = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_one_event_per_session_in_local_time(series_2020: Series) -> None:
    calendar = Calendar.from_ical(format_ics(series_2020, generated_at=STAMP))
    events = calendar.walk("VEVENT")
    assert len(events) == 5
    starts = [event.decoded("dtstart") for event in events]
    assert all(start.timetz().replace(tzinfo=None) == time(18, 45) for start in starts)
    # September is PDT (-7), December PST (-8): the instants differ, the wall clock does not.
    assert starts[0].utcoffset().total_seconds() == -7 * 3600
    assert starts[3].utcoffset().total_seconds() == -8 * 3600
    assert next(str(e["uid"]) for e in events) == "ssvms-balint-2020-session-1@balint-cme"
    assert len(calendar.walk("VTIMEZONE")) == 1


def test_export_is_repeatable_for_the_same_stamp(series_2020: Series) -> None:
    assert format_ics(series_2020, generated_at=STAMP) == format_ics(
        series_2020, generated_at=STAMP
    )


def test_undated_series_has_no_events(series_2023: Series) -> None:
    calendar = Calendar.from_ical(format_ics(series_2023, generated_at=STAMP))
    assert calendar.walk("VEVENT") == []
