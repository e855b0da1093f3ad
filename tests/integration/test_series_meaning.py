"""Series files that must not mean something else (issue 10, items 7-12): session ends across
daylight saving, the credit name, hour-for-hour designation, credentials with qualifiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from balint_cme.cli import main
from balint_cme.io.ics import format_ics
from balint_cme.io.series_file import load_series

STAMP = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

HEADER = """
id = "dst-series"
title = "Night Balint Group"
timezone = "America/Los_Angeles"

[provider]
accredited = "Example Medical Society"
accreditor = "ACCME"

[credit]
type = "{credit_type}"
per_session = "{per_session}"
series_maximum = "{maximum}"
"""


def write_series(
    tmp_path: Path,
    body: str,
    *,
    credit_type: str = "AMA PRA Category 1 Credit",
    per_session: str = "1.0",
    maximum: str = "1.0",
) -> Path:
    path = tmp_path / "series.toml"
    head = HEADER.format(credit_type=credit_type, per_session=per_session, maximum=maximum)
    path.write_text(head + body, encoding="utf-8")
    return path


# On 7 November 2021 Los Angeles clocks fell back at 2:00 PDT to 1:00 PST: a 60-minute session
# starting 1:30 AM PDT ends at 1:30 AM PST, one elapsed hour later (not 2:30 AM PST).
ACROSS_FALL_BACK = """
[[sessions]]
start = 2021-11-07T01:30:00
duration_minutes = 60
"""


def test_ics_event_across_a_dst_change_lasts_the_session_length(tmp_path: Path) -> None:
    series = load_series(write_series(tmp_path, ACROSS_FALL_BACK))
    (event,) = Calendar.from_ical(format_ics(series, generated_at=STAMP)).walk("VEVENT")
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=60)
    ends_at = series.sessions[0].ends_at
    assert ends_at is not None
    assert end.timestamp() == ends_at.timestamp()


def test_schedule_across_a_dst_change_prints_the_elapsed_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_series(tmp_path, ACROSS_FALL_BACK)
    assert main(["schedule", str(path)]) == 0
    out = capsys.readouterr().out
    assert "01:30 AM - 01:30 AM PST" in out
