"""iCalendar export: one event per dated session, at the right local time."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from icalendar import Calendar

from balint_cme import Series
from balint_cme.cli import main
from balint_cme.errors import ScheduleError
from balint_cme.io.ics import format_ics
from tests.conftest import EXAMPLES

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


def test_undated_series_is_refused_not_an_empty_calendar(series_2023: Series) -> None:
    with pytest.raises(ScheduleError, match=r"no dated session yet \(4 to be announced"):
        format_ics(series_2023, generated_at=STAMP)


def test_schedule_ics_on_an_undated_series_exits_1_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "balint-2023.ics"
    code = main(["schedule", str(EXAMPLES / "ssvms-balint-2023.toml"), "--ics", str(target)])
    captured = capsys.readouterr()
    assert code == 1
    assert not target.exists()
    assert "nothing to put in a calendar" in captured.err
    assert captured.out == ""


def test_schedule_without_ics_still_lists_an_undated_series(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schedule", str(EXAMPLES / "ssvms-balint-2023.toml")]) == 0
    assert "date to be announced" in capsys.readouterr().out
