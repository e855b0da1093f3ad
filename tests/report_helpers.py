"""Shared helpers for the meeting-report tests: the fixture series and per-person seconds."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from balint_cme import Series, attended_seconds
from balint_cme.io.reports import AttendanceReading
from balint_cme.io.series_file import load_series

REPORTS = Path(__file__).resolve().parent / "fixtures" / "reports"
"""tests/fixtures/reports: one report per variant (see its README.md)."""


@lru_cache(maxsize=1)
def reports_series() -> Series:
    """The fixture series: eight sessions 2020-2025, the roster every report refers to."""
    return load_series(REPORTS / "series-reports.toml")


def seconds_by_person(reading: AttendanceReading, series: Series) -> dict[tuple[str, int], int]:
    """Attended seconds (union of intervals, clipped to the window) per (person, session)."""
    register = reading.register()
    result: dict[tuple[str, int], int] = {}
    for participant_id, number in sorted(
        {(record.participant_id, record.session) for record in reading.records}
    ):
        session = series.sessions[number - 1]
        assert session.starts_at is not None
        start = int(session.starts_at.timestamp())
        result[(participant_id, number)] = attended_seconds(
            register.intervals(participant_id, number), start, start + session.duration_minutes * 60
        )
    return result
