"""Microsoft Teams attendance reports: both layouts, UTF-16, re-saves, totals-only files."""

from __future__ import annotations

from pathlib import Path

import pytest

from balint_cme.errors import DataFileError
from balint_cme.io.reports import read_report, read_report_bytes
from tests.report_helpers import REPORTS, reports_series, seconds_by_person

LAYOUT_2021 = REPORTS / "teams-2021-03.csv"
LAYOUT_2022 = REPORTS / "teams-2024-06.csv"
EXPECTED_2021 = {("f01", 4): 3600, ("p03", 4): 3510, ("p04", 4): 3300, ("p06", 4): 1380}
EXPECTED_2022 = {("f01", 7): 3600, ("p01", 7): 3390, ("p02", 7): 2928, ("p05", 7): 3600}


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-16")


def test_2021_layout_reads_per_join_rows_and_strips_teams_suffixes() -> None:
    series = reports_series()
    reading = read_report(LAYOUT_2021, series)
    # José Núñez (External) twice, 18:45-19:20 and 19:21:30-19:45; "(Unverified)" Minh Anh.
    assert seconds_by_person(reading, series) == EXPECTED_2021
    (source,) = reading.sources
    assert (source.format, source.platform, source.encoding) == ("teams-2021", "teams", "utf-16")
    assert source.session == 4
    assert reading.unmatched == ()
    assert reading.records[1].evidence is not None
    assert reading.records[1].evidence.line == 9


def test_layout_since_2022_uses_activities_not_per_person_totals() -> None:
    series = reports_series()
    reading = read_report(LAYOUT_2022, series)
    assert seconds_by_person(reading, series) == EXPECTED_2022
    assert reading.sources[0].format == "teams-2022"
    lines = {
        line
        for r in reading.records
        if r.evidence
        for first, last in (r.evidence.line_ranges or ((r.evidence.line or 0,) * 2,))
        for line in range(first, last + 1)
    }
    assert lines == {18, 19, 20, 21, 22}


def test_utf8_resave_and_utf16_without_bom_read_the_same() -> None:
    series = reports_series()
    text = _text(LAYOUT_2022)
    for data in (
        text.encode("utf-8"),
        b"\xef\xbb\xbf" + text.encode("utf-8"),
        text.encode("utf-16-le"),
        text.encode("utf-16"),  # big- or little-endian with BOM, as the platform writes it
        b"\xfe\xff" + text.encode("utf-16-be"),
    ):
        reading = read_report_bytes(data, "teams.csv", series)
        assert seconds_by_person(reading, series) == EXPECTED_2022


def test_day_first_locale_times_read_the_same() -> None:
    series = reports_series()
    text = _text(LAYOUT_2022)
    replacements = {
        "6/20/24, 6:40:12 PM": "20/06/2024, 18:40:12",
        "6/20/24, 6:44:01 PM": "20/06/2024, 18:44:01",
        "6/20/24, 7:10:00 PM": "20/06/2024, 19:10:00",
        "6/20/24, 7:13:30 PM": "20/06/2024, 19:13:30",
        "6/20/24, 7:46:10 PM": "20/06/2024, 19:46:10",
        "6/20/24, 6:56:12 PM": "20/06/2024, 18:56:12",
        "6/20/24, 7:45:00 PM": "20/06/2024, 19:45:00",
        "6/20/24, 6:45:00 PM": "20/06/2024, 18:45:00",
        "6/20/24, 7:52:03 PM": "20/06/2024, 19:52:03",
    }
    for old, new in replacements.items():
        text = text.replace(old, new)
    assert "6/20/24" not in text
    reading = read_report_bytes(text.encode("utf-16"), "teams-en-gb.csv", series)
    assert seconds_by_person(reading, series) == EXPECTED_2022


def test_totals_only_report_is_aggregate_evidence() -> None:
    series = reports_series()
    text = _text(LAYOUT_2022)
    totals_only = text[: text.index("3. In-Meeting Activities")]
    reading = read_report_bytes(totals_only.encode("utf-16"), "teams-totals.csv", series)
    assert reading.sources[0].format == "teams-2022-totals"
    assert reading.sources[0].session == 7  # from the summary's start and end
    seconds = seconds_by_person(reading, series)
    assert seconds[("p01", 7)] == 58 * 60 + 39  # In-Meeting Duration "58m 39s", from the start
    assert seconds[("f01", 7)] == 3600  # "1h 11m 51s", capped at the session length
    assert any("aggregate evidence" in note for note in reading.notes)


def test_truncated_utf16_is_a_clear_error() -> None:
    data = LAYOUT_2021.read_bytes()
    with pytest.raises(DataFileError, match="UTF-16 text is truncated"):
        read_report_bytes(data[:-1], "teams.csv", reports_series())


def test_2020_user_action_layout_is_refused_with_a_reason() -> None:
    text = (
        "Full Name\tUser Action\tTimestamp\n"
        "Ana Ruiz\tJoined\t9/9/2020, 6:44:01 PM\n"
        "Ana Ruiz\tLeft\t9/9/2020, 7:45:00 PM\n"
    )
    # Without Join Time this header is not recognised as Teams at all; with it, refused.
    with pytest.raises(DataFileError, match="not a recognised attendance report"):
        read_report_bytes(text.encode("utf-16"), "teams-2020.csv", reports_series())
    text = "Meeting Summary\n\n" + text.replace("Timestamp", "Join Time")
    with pytest.raises(DataFileError, match="User Action"):
        read_report_bytes(text.encode("utf-16"), "teams-2020.csv", reports_series())


def test_report_without_participants_is_refused() -> None:
    text = "1. Summary\nMeeting title\tBalint\nStart time\t6/20/24, 6:40:12 PM\n"
    with pytest.raises(DataFileError, match="without participants"):
        read_report_bytes(text.encode("utf-16"), "teams.csv", reports_series())
