"""Zoom reports as downloaded: classic and newer web-portal CSV, unique users, report API JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest

from balint_cme import award_series
from balint_cme.errors import DataFileError
from balint_cme.io.reports import read_report, read_report_bytes, read_reports
from tests.report_helpers import REPORTS, reports_series, seconds_by_person


def test_classic_export_with_summary_bom_and_crlf_gives_each_persons_union() -> None:
    series = reports_series()
    reading = read_report(REPORTS / "zoom-classic-2020-09.csv", series)
    assert seconds_by_person(reading, series) == {
        ("f01", 1): 3600,
        ("p01", 1): 3600,  # two reconnects, the gap covered by a second device "(iPad)"
        ("p02", 1): 2700,  # "Dr. Zoë Ångström (Zoe Angstrom)": a rename
        ("p03", 1): 3300,  # "Núñez, José" quoted, Last, First
        ("p04", 1): 1800,  # Nguyễn Thị Minh Anh
        ("p05", 1): 3600,  # 王秀英, then the alias "Wang Xiuying (iPhone)"
        ("p06", 1): 3510,  # dialled in as 19165550134, renamed Tomasz Wiśniewski later
        ("p07", 1): 3480,  # "Priya Raghunathan (she/her)" is not a rename
    }
    (source,) = reading.sources
    assert source.format == "zoom-participants-classic"
    assert source.platform == "zoom"
    assert source.session == 1
    assert source.rows == 15
    assert source.encoding == "utf-8-sig"
    assert len(source.sha256) == 64


def test_classic_export_lists_the_ambiguous_row_with_file_line_and_minutes() -> None:
    reading = read_report(REPORTS / "zoom-classic-2020-09.csv", reports_series())
    (row,) = reading.unmatched
    assert row.file.endswith("zoom-classic-2020-09.csv")
    assert row.line == 14
    assert row.name == "Chris Lee"
    assert row.email is None
    assert row.session == 1
    assert row.minutes == Decimal("60.00")
    assert row.reason == "ambiguous: p08, p09"


def test_classic_export_counts_facilitator_and_host_rows_apart_from_unmatched() -> None:
    reading = read_report(REPORTS / "zoom-classic-2020-09.csv", reports_series())
    assert reading.facilitator_rows == 1
    assert reading.host_rows == 1
    assert any("Marissa Pierce: 1 row" in note for note in reading.notes)
    assert any("office@ssvms.example.org" in note for note in reading.notes)
    assert any("'19165550134' counted for p06" in note for note in reading.notes)


def test_records_carry_file_line_and_platform_as_evidence() -> None:
    reading = read_report(REPORTS / "zoom-classic-2020-09.csv", reports_series())
    first = reading.records[0]
    assert first.participant_id == "f01"
    assert first.evidence is not None
    assert first.evidence.source.endswith("zoom-classic-2020-09.csv")
    assert first.evidence.line == 5
    assert first.evidence.platform == "zoom"


def test_csv_and_api_json_of_one_meeting_after_dst_agree() -> None:
    series = reports_series()
    csv_reading = read_report(REPORTS / "zoom-classic-2020-11.csv", series)
    api_reading = read_report(REPORTS / "zoom-api-2020-11-pages.json", series)
    expected = {
        ("f01", 2): 3600,
        ("p01", 2): 3480,
        ("p02", 2): 3300,  # the waiting-room row before it does not count
        ("p03", 2): 3600,  # no user_email (outside the host's account): matched by name
        ("p10", 2): 3300,
    }
    assert seconds_by_person(csv_reading, series) == expected
    assert seconds_by_person(api_reading, series) == expected
    assert api_reading.sources[0].format == "zoom-api-json"
    assert api_reading.sources[0].export_tz is None
    assert [row.reason for row in api_reading.unmatched] == ["no roster match"]


def test_api_pages_as_separate_files_merge_to_the_same_result() -> None:
    series = reports_series()
    pages = read_reports(
        [
            (REPORTS / "zoom-api-2020-11-page1.json", None),
            (REPORTS / "zoom-api-2020-11-page2.json", None),
        ],
        series,
    )
    together = read_report(REPORTS / "zoom-api-2020-11-pages.json", series)
    assert seconds_by_person(pages, series) == seconds_by_person(together, series)
    assert [source.session for source in pages.sources] == [2, 2]
    assert any("participant 4" in note for note in pages.notes)


def test_export_from_another_zone_crossing_midnight_needs_export_tz() -> None:
    series = reports_series()
    path = REPORTS / "zoom-classic-2021-01-new-york.csv"
    reading = read_report(path, series, export_tz="America/New_York")
    assert seconds_by_person(reading, series) == {
        ("p01", 3): 3480,
        ("p06", 3): 3600,
        ("p07", 3): 1800,
    }
    assert reading.sources[0].export_tz == "America/New_York"
    with pytest.raises(DataFileError, match=r"overlap no session.*export time zone"):
        read_report(path, series)


def test_day_first_resave_without_seconds_is_resolved_against_the_session_date() -> None:
    series = reports_series()
    reading = read_report(REPORTS / "zoom-classic-2022-10-resaved.csv", series)
    assert seconds_by_person(reading, series) == {
        ("f01", 5): 3600,
        ("p01", 5): 3300,
        # Minute resolution: joined 18:50 is read as 18:50:59 (the join's minute is not proven).
        ("p02", 5): 3241,
        ("p08", 5): 1741,  # "Lee, Chris" with chris.lee@example.org: e-mail decides
    }
    assert [(row.line, row.reason) for row in reading.unmatched] == [(6, "ambiguous: p08, p09")]
    assert any("read day-first" in note for note in reading.notes)
    assert any("given to the minute" in note for note in reading.notes)
    assert any("waiting-room" in note and "line 2" in note for note in reading.notes)


def test_unique_users_export_is_aggregate_and_never_sums_past_the_session() -> None:
    series = reports_series()
    reading = read_report(REPORTS / "zoom-unique-2022-10.csv", series)
    assert reading.sources[0].format == "zoom-unique-users"
    assert reading.sources[0].session == 5  # from the summary block's start and end
    assert seconds_by_person(reading, series) == {
        ("p01", 5): 3600,  # 61 minutes, capped at the 60-minute session
        ("p02", 5): 2400,  # 40 + 35 > 60: the longest row, flagged
        ("p03", 5): 3000,  # 30 + 20 fits in the session: summed
    }
    assert any("aggregate evidence" in note for note in reading.notes)
    assert any("p02" in note and "not the sum" in note for note in reading.notes)


def test_unique_users_without_summary_needs_the_session_named() -> None:
    series = reports_series()
    text = (REPORTS / "zoom-unique-2022-10.csv").read_text(encoding="utf-8-sig")
    table = text[text.index("Name (Original Name)") :]
    path = "unique-without-summary.csv"
    with pytest.raises(DataFileError, match="name the session"):
        read_report_bytes(table.encode(), path, series)
    reading = read_report_bytes(table.encode(), path, series, session=5)
    assert seconds_by_person(reading, series)[("p03", 5)] == 3000


def test_newer_reports_page_with_quoted_summary_and_trailing_column() -> None:
    series = reports_series()
    reading = read_report(REPORTS / "zoom-new-2025-02.csv", series)
    assert reading.sources[0].format == "zoom-participants-new"
    assert seconds_by_person(reading, series) == {
        ("f01", 8): 3600,
        ("p04", 8): 3600,  # "Minh Anh Nguyen (iPad)": alias plus device
        ("p06", 8): 3000,  # "Dr. Tomasz Wiśniewski, MD" then renamed "Tomasz (Tomasz Wiśniewski)"
        ("p07", 8): 3600,  # the waiting-room row is not attendance
        ("p09", 8): 3600,  # "Chris Lee" with clee@example.com: the e-mail decides
    }
    assert reading.unmatched == ()


def test_newer_unique_users_export_sums_rows_within_the_session() -> None:
    series = reports_series()
    reading = read_report(REPORTS / "zoom-new-unique-2025-02.csv", series)
    seconds = seconds_by_person(reading, series)
    assert seconds[("p06", 8)] == 51 * 60
    assert seconds[("p07", 8)] == 3600


def test_credit_follows_from_the_reading() -> None:
    series = reports_series()
    reading = read_report(REPORTS / "zoom-classic-2020-09.csv", series)
    awards = {award.participant_id: award for award in award_series(series, reading.register())}
    assert awards["p01"].sessions[0].credit == Decimal("1.00")
    assert awards["p02"].sessions[0].credit == Decimal("0.75")  # 45 minutes
    assert awards["p04"].sessions[0].credit == Decimal("0.50")  # 30 minutes
    assert awards["f01"].sessions[0].credit == Decimal("0.00")  # facilitated this session
    assert awards["p08"].sessions[0].credit == Decimal("0.00")  # ambiguous rows earn nothing


def test_malformed_date_names_file_line_column_and_value() -> None:
    with pytest.raises(DataFileError) as caught:
        read_report(REPORTS / "bad" / "zoom.csv", reports_series())
    err = caught.value
    assert err.line == 14
    assert err.reason == "Leave Time '13/45/2021 07:10 PM' is not a date"
    assert str(err).endswith("zoom.csv line 14: Leave Time '13/45/2021 07:10 PM' is not a date")


def test_durations_are_never_read_from_the_rounded_column() -> None:
    series = reports_series()
    text = (REPORTS / "zoom-classic-2020-11.csv").read_text(encoding="utf-8")
    garbled = text.replace(",37,No,", ",999,No,").replace(",62,Yes,", ",1,Yes,")
    reading = read_report_bytes(garbled.encode(), "garbled.csv", series)
    assert seconds_by_person(reading, series) == seconds_by_person(
        read_report(REPORTS / "zoom-classic-2020-11.csv", series), series
    )


def test_an_unquoted_comma_in_a_name_is_refused_not_misread() -> None:
    text = (
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n"
        "Núñez, José,,09/09/2020 06:50:00 PM,09/09/2020 07:45:00 PM,55,Yes\n"
    )
    with pytest.raises(DataFileError, match=r"line 2: has 7 values but the header has 6"):
        read_report_bytes(text.encode(), "z.csv", reports_series())


def test_a_row_leaving_before_it_joined_is_refused() -> None:
    text = (
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n"
        "Ana Ruiz,,09/09/2020 07:50:00 PM,09/09/2020 06:45:00 PM,55,Yes\n"
    )
    with pytest.raises(DataFileError, match=r"line 2: Leave Time .* is before Join Time"):
        read_report_bytes(text.encode(), "z.csv", reports_series())
