"""Sign-in sheets: this project's CSV for in-person sessions and manual records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from balint_cme.errors import DataFileError
from balint_cme.io.reports import read_report, read_report_bytes
from tests.report_helpers import REPORTS, reports_series, seconds_by_person

HEADER = "participant_id,name,email,session,join,leave,minutes\n"


def test_fixture_sheet_reads_ids_names_emails_times_and_minutes() -> None:
    series = reports_series()
    reading = read_report(REPORTS / "signin-2023-05.csv", series)
    assert seconds_by_person(reading, series) == {
        ("p01", 6): 3600,  # 18:40-19:45, clipped to the window
        ("p02", 6): 2341,  # "6:50 PM" to "7:30 PM": to the minute, joined read as 6:50:59
        ("p03", 6): 2700,  # 45 minutes, counted from the start
        ("p06", 6): 2641,  # full dates, no session column: placed by its times (to the minute)
    }
    (row,) = reading.unmatched
    # 18:45-19:45 to the minute: the join is read as 18:45:59.
    assert (row.line, row.reason, row.minutes) == (
        5,
        "no roster participant 'p99'",
        Decimal("59.02"),
    )
    (source,) = reading.sources
    assert (source.format, source.platform, source.session) == ("sign-in-csv", "sign-in", 6)
    assert any("sign-in sheet minutes" in note for note in reading.notes)


def test_semicolon_sheet_with_extra_columns_reads_the_same() -> None:
    series = reports_series()
    text = "name;signature;join;leave;session\nAna Ruiz;A.R.;18:50;19:40;6\n"
    reading = read_report_bytes(text.encode(), "sheet.csv", series)
    assert seconds_by_person(reading, series) == {("p01", 6): 50 * 60 - 59}


def test_times_of_day_need_a_session() -> None:
    series = reports_series()
    data = b"name,join,leave\nAna Ruiz,18:50,19:40\n"
    with pytest.raises(DataFileError, match="name the session"):
        read_report_bytes(data, "sheet.csv", series)
    reading = read_report_bytes(data, "sheet.csv", series, session=6)
    assert seconds_by_person(reading, series) == {("p01", 6): 50 * 60 - 59}


def test_a_stay_past_midnight_ends_the_next_day() -> None:
    series = reports_series()  # session 3: 21:30-22:30
    data = (HEADER + "p01,,,3,22:00,00:10,\n").encode()
    reading = read_report_bytes(data, "late.csv", series)
    (record,) = reading.records
    assert record.left_at.date() > record.joined_at.date()
    assert seconds_by_person(reading, series) == {("p01", 3): 30 * 60 - 59}


def test_rows_for_several_sessions_in_one_sheet() -> None:
    series = reports_series()
    data = (HEADER + "p01,,,1,,,60\np01,,,2,,,30\np02,,,2,18:45,19:15,\n").encode()
    reading = read_report_bytes(data, "manual.csv", series)
    assert seconds_by_person(reading, series) == {
        ("p01", 1): 3600,
        ("p01", 2): 1800,
        ("p02", 2): 1800 - 59,  # 18:45 to the minute: joined read as 18:45:59
    }
    assert reading.sources[0].session is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",,,6,18:45,19:45,", r"line 2: the row names nobody"),
        ("p01,,,6,18:45,,", r"line 2: the row has no leave time"),
        ("p01,,,6,,,", r"line 2: the row has neither join and leave nor minutes"),
        ("p01,,,6,,,about an hour", r"line 2: minutes 'about an hour' is not a number"),
        ("p01,,,zero,,,60", r"line 2: session 'zero' is not a session number"),
        ("p01,,,12,,,60", r"line 2: session 12 is not in series"),
        ("p01,,,6,quarter to seven,19:45,", r"line 2: join 'quarter to seven' is not a date"),
        ("p01,,,6,18:45,2023-05-10 19:45,", r"line 2: join and leave must both be"),
    ],
)
def test_bad_rows_are_refused_with_their_line(row: str, message: str) -> None:
    with pytest.raises(DataFileError, match=message):
        read_report_bytes((HEADER + row + "\n").encode(), "sheet.csv", reports_series())


def test_a_row_for_another_session_than_the_one_named_is_refused() -> None:
    data = (HEADER + "p01,,,5,,,60\n").encode()
    with pytest.raises(DataFileError, match="session 5, but the file was given as session 6"):
        read_report_bytes(data, "sheet.csv", reports_series(), session=6)
