"""Reading reports as a whole: detection, sessions, merging, limits, properties and fuzzing.

The properties: reordering, duplicating or splitting a report's rows never changes anyone's
attended time, in every per-join format. The fuzzing: whatever the bytes, the only exception
is the library's own (a DataFileError naming the file).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balint_cme import Series, attended_seconds
from balint_cme.errors import (
    BalintCmeError,
    DataFileError,
    UndatedSessionError,
    UnknownSessionError,
)
from balint_cme.io.report_text import MAX_LINE_CHARS
from balint_cme.io.reports import (
    MAX_REPORT_BYTES,
    AttendanceReading,
    detect_format,
    read_report,
    read_report_bytes,
    read_reports,
)
from tests.report_helpers import REPORTS, reports_series, seconds_by_person

FIXTURES = sorted(p for p in REPORTS.glob("*") if p.suffix in {".csv", ".json"})
KINDS = {
    "signin-2023-05.csv": "sign-in-csv",
    "teams-2021-03.csv": "teams",
    "teams-2024-06.csv": "teams",
    "zoom-api-2020-11-page1.json": "zoom-api-json",
    "zoom-api-2020-11-page2.json": "zoom-api-json",
    "zoom-api-2020-11-pages.json": "zoom-api-json",
}


# ---------------------------------------------------------------------------------------------
# Detection


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_format_is_detected_from_content_not_the_file_name(path: Path, tmp_path: Path) -> None:
    series = reports_series()
    misleading = tmp_path / "attendance.xlsx"
    misleading.write_bytes(path.read_bytes())
    export_tz = "America/New_York" if "new-york" in path.name else None
    original = read_report(path, series, export_tz=export_tz)
    renamed = read_report(misleading, series, export_tz=export_tz)
    assert seconds_by_person(renamed, series) == seconds_by_person(original, series)
    assert renamed.sources[0].format == original.sources[0].format
    assert renamed.sources[0].sha256 == original.sources[0].sha256
    text = path.read_bytes()
    decoded = text.decode("utf-16") if text.startswith(b"\xff\xfe") else text.decode("utf-8-sig")
    assert detect_format(decoded, path) == KINDS.get(path.name, "zoom-csv")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"   \r\n\r\n", "is empty"),
        (b"a,b,c\n1,2,3\n", r"line 1: is not a recognised attendance report: 'a,b,c'"),
        (b"\n\nName,Score\n", r"line 3: is not a recognised attendance report"),
        (b"{}", "no 'participants' list"),
        (b"[]", "empty JSON list"),
        (b'{"participants": [1]}', "participant 1 is not a JSON object"),
        (b'{"participants": [{"name": 5}]}', "participant 1: name is int, not text"),
        (b'{"participants": [{"name": "A"}]}', r"participant 1 \(A\) has no join_time"),
        (b"{'participants': []}", r"is not valid JSON"),
        (b"\x81\x8d\x8f\x90\x9d" * 3, "is not text"),
    ],
)
def test_unrecognised_or_malformed_files_are_refused_with_the_reason(
    data: bytes, message: str
) -> None:
    with pytest.raises(DataFileError, match=message):
        read_report_bytes(data, "report.csv", reports_series())


def test_windows_1252_resave_is_read_with_a_note() -> None:
    series = reports_series()
    text = (REPORTS / "zoom-classic-2020-11.csv").read_text(encoding="utf-8")
    reading = read_report_bytes(text.encode("cp1252"), "resaved.csv", series)
    assert seconds_by_person(reading, series)[("p03", 2)] == 3600  # José Núñez, in cp1252
    assert reading.sources[0].encoding == "cp1252"
    assert any("Windows-1252" in note for note in reading.notes)


# ---------------------------------------------------------------------------------------------
# Sessions


def test_naming_the_session_reads_the_same() -> None:
    series = reports_series()
    path = REPORTS / "zoom-classic-2020-09.csv"
    assert seconds_by_person(read_report(path, series, session=1), series) == seconds_by_person(
        read_report(path, series), series
    )


def test_naming_a_session_the_rows_do_not_overlap_is_refused() -> None:
    with pytest.raises(DataFileError, match=r"do not overlap session 2 \(2020-11-11 18:45"):
        read_report(REPORTS / "zoom-classic-2020-09.csv", reports_series(), session=2)


def test_unknown_and_undated_sessions_are_refused(series_2023: Series) -> None:
    with pytest.raises(UnknownSessionError, match="has no session 9"):
        read_report(REPORTS / "zoom-classic-2020-09.csv", reports_series(), session=9)
    with pytest.raises(UndatedSessionError):
        read_report(REPORTS / "zoom-classic-2020-09.csv", series_2023, session=1)
    with pytest.raises(DataFileError, match="no dated sessions"):
        read_report(REPORTS / "zoom-classic-2020-09.csv", series_2023)


def test_rows_overlapping_two_sessions_need_the_session_named() -> None:
    text = (
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n"
        "Ana Ruiz,,09/09/2020 06:45:00 PM,09/09/2020 07:45:00 PM,60,Yes\n"
        "Ana Ruiz,,11/11/2020 06:45:00 PM,11/11/2020 07:45:00 PM,60,Yes\n"
    )
    with pytest.raises(DataFileError, match="overlap sessions 1, 2; name the session"):
        read_report_bytes(text.encode(), "two.csv", reports_series())
    reading = read_report_bytes(text.encode(), "two.csv", reports_series(), session=2)
    assert seconds_by_person(reading, reports_series()) == {("p01", 2): 3600}


def test_mixed_date_orders_in_one_file_are_refused() -> None:
    text = (
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n"
        "Ana Ruiz,,10/13/2020 18:45,10/13/2020 19:45,60,Yes\n"
        "Ana Ruiz,,13/10/2020 18:45,13/10/2020 19:45,60,Yes\n"
    )
    with pytest.raises(DataFileError, match=r"line 3: Join Time '13/10/2020 18:45' is day-first"):
        read_report_bytes(text.encode(), "mixed.csv", reports_series())


def test_dates_on_no_session_in_either_order_are_refused() -> None:
    text = (
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n"
        "Ana Ruiz,,03/04/2020 18:45,03/04/2020 19:45,60,Yes\n"
    )
    with pytest.raises(DataFileError, match="falls on no session date as 2020-03-04"):
        read_report_bytes(text.encode(), "spring.csv", reports_series())


def test_a_bad_export_zone_is_refused() -> None:
    with pytest.raises(DataFileError, match="'Mars/Olympus' is not an IANA time zone"):
        read_report(
            REPORTS / "zoom-classic-2020-09.csv", reports_series(), export_tz="Mars/Olympus"
        )


# ---------------------------------------------------------------------------------------------
# Several files


def test_reading_several_sessions_gives_every_record_and_source() -> None:
    series = reports_series()
    reading = read_reports(
        [
            (REPORTS / "zoom-classic-2020-09.csv", None),
            (REPORTS / "teams-2021-03.csv", 4),
            (REPORTS / "signin-2023-05.csv", None),
        ],
        series,
    )
    assert [s.session for s in reading.sources] == [1, 4, 6]
    seconds = seconds_by_person(reading, series)
    assert seconds[("p03", 1)] == 3300
    assert seconds[("p03", 4)] == 3510
    assert seconds[("p03", 6)] == 2700
    assert len(reading.unmatched) == 2
    assert isinstance(reading, AttendanceReading)


def test_the_same_file_twice_is_read_once(tmp_path: Path) -> None:
    series = reports_series()
    copy = tmp_path / "again.csv"
    copy.write_bytes((REPORTS / "zoom-classic-2020-09.csv").read_bytes())
    reading = read_reports([(REPORTS / "zoom-classic-2020-09.csv", None), (copy, None)], series)
    assert len(reading.sources) == 1
    assert any("the same bytes as" in note for note in reading.notes)


def test_aggregate_and_per_join_reports_of_one_session_are_flagged() -> None:
    reading = read_reports(
        [
            (REPORTS / "zoom-classic-2022-10-resaved.csv", None),
            (REPORTS / "zoom-unique-2022-10.csv", None),
        ],
        reports_series(),
    )
    # Ana Ruiz: per-join 18:44-19:40 (55 minutes in the window), unique users 61 minutes in a
    # meeting that covered the whole session: credited the totals alone, never the union.
    assert seconds_by_person(reading, reports_series())[("p01", 5)] == 3600
    assert any(
        note.startswith("session 5: Ana Ruiz (p01) has both per-join times")
        and "not added up" in note
        for note in reading.notes
    )


def test_one_bad_file_applies_nothing() -> None:
    with pytest.raises(DataFileError, match=r"zoom\.csv line 14"):
        read_reports(
            [(REPORTS / "zoom-classic-2020-09.csv", None), (REPORTS / "bad" / "zoom.csv", None)],
            reports_series(),
        )


# ---------------------------------------------------------------------------------------------
# Files that are not there, or too big


def test_missing_files_and_directories_are_data_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read file"):
        read_report(tmp_path / "missing.csv", reports_series())
    with pytest.raises(DataFileError, match="cannot read file"):
        read_report(tmp_path, reports_series())


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.truncate(MAX_REPORT_BYTES + 1)  # sparse: no 200 MB is written or read
    with pytest.raises(DataFileError, match="a meeting report is at most"):
        read_report(huge, reports_series())


def test_an_over_long_line_is_refused_with_its_number() -> None:
    header = b"Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n"
    data = header + b"x" * (MAX_LINE_CHARS + 1) + b"\n"
    with pytest.raises(DataFileError, match=r"line 2: line is 65,537 characters long"):
        read_report_bytes(data, "long.csv", reports_series())


@pytest.mark.slow
def test_a_50_mb_single_line_is_refused_quickly() -> None:
    series = reports_series()
    with pytest.raises(DataFileError, match=r"big\.csv line 1: line is 52,428,800 characters"):
        read_report_bytes(b"A" * (50 * 1024 * 1024), "big.csv", series)
    tab = b"Full Name\tJoin Time\t" + b"B" * (50 * 1024 * 1024)
    with pytest.raises(DataFileError, match=r"big\.csv line 1"):
        read_report_bytes(tab, "big.csv", series)
    json_line = b'{"participants": [{"name": "' + b"C" * (50 * 1024 * 1024) + b'"}]}'
    # JSON is parsed whole, so it has its own limit (20 MiB), met before any value is read.
    with pytest.raises(DataFileError, match=r"big\.json: is 52,428,832 characters of JSON"):
        read_report_bytes(json_line, "big.json", series)


# ---------------------------------------------------------------------------------------------
# Properties: reordering, duplicating or splitting rows never changes attended time

_PEOPLE = (
    ("Ana Ruiz", "ana.ruiz@example.org", "p01"),
    ("Núñez, José", "", "p03"),
    ("Zoë Ångström", "zoe.angstrom@example.net", "p02"),
    ("Nguyễn Thị Minh Anh", "", "p04"),
    ("王秀英", "", "p05"),
    ("Tomasz Wiśniewski", "tomasz.wisniewski@example.pl", "p06"),
)
_LA = ZoneInfo("America/Los_Angeles")
Row = tuple[int, int, int]  # person, start and end in epoch seconds


def _session_start() -> int:
    start = reports_series().sessions[0].starts_at
    assert start is not None
    return int(start.timestamp())


def _zoom_csv(rows: list[Row]) -> bytes:
    lines = ["Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest"]
    for person, start, end in rows:
        name, email, _ = _PEOPLE[person]
        joined = datetime.fromtimestamp(start, _LA).strftime("%m/%d/%Y %I:%M:%S %p")
        left = datetime.fromtimestamp(end, _LA).strftime("%m/%d/%Y %I:%M:%S %p")
        quoted = f'"{name}"' if "," in name else name
        lines.append(f"{quoted},{email},{joined},{left},{-(-(end - start) // 60)},No")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def _zoom_api(rows: list[Row]) -> bytes:
    def iso(moment: int) -> str:
        return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    participants = [
        {
            "name": _PEOPLE[p][0],
            "user_email": _PEOPLE[p][1],
            "join_time": iso(a),
            "leave_time": iso(b),
            "duration": b - a,
            "status": "in_meeting",
        }
        for p, a, b in rows
    ]
    return json.dumps({"page_count": 1, "participants": participants}).encode()


def _teams(rows: list[Row]) -> bytes:
    def stamp(moment: int) -> str:
        local = datetime.fromtimestamp(moment, _LA)
        hour = local.hour % 12 or 12
        return (
            f"{local.month}/{local.day}/{local:%y}, {hour}:{local:%M:%S} "
            f"{'AM' if local.hour < 12 else 'PM'}"
        )

    lines = ["3. In-Meeting Activities", "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole"]
    for person, start, end in rows:
        name, email, _ = _PEOPLE[person]
        lines.append(f"{name}\t{stamp(start)}\t{stamp(end)}\t{end - start}s\t{email}\tAttendee")
    return "\r\n".join(lines).encode("utf-16")


def _sign_in(rows: list[Row]) -> bytes:
    lines = ["name,email,join,leave"]
    for person, start, end in rows:
        name, email, _ = _PEOPLE[person]
        joined = datetime.fromtimestamp(start, _LA).strftime("%Y-%m-%d %H:%M:%S")
        left = datetime.fromtimestamp(end, _LA).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f'"{name}",{email},{joined},{left}')
    return ("\n".join(lines) + "\n").encode()


WRITERS = {"zoom-csv": _zoom_csv, "zoom-api": _zoom_api, "teams": _teams, "sign-in": _sign_in}


@st.composite
def _rows(draw: st.DrawFn) -> list[Row]:
    start = _session_start()
    # The first row overlaps the session, so the report is placed in session 1.
    count = draw(st.integers(1, 10))
    rows: list[Row] = []
    for index in range(count):
        person = draw(st.integers(0, len(_PEOPLE) - 1))
        offset = draw(st.integers(0, 3000) if index == 0 else st.integers(-900, 4200))
        length = draw(st.integers(60, 3600))
        rows.append((person, start + offset, start + offset + length))
    return rows


def _expected(rows: list[Row]) -> dict[tuple[str, int], int]:
    start = _session_start()
    people = {_PEOPLE[p][2] for p, _, _ in rows}
    return {
        (pid, 1): attended_seconds(
            [(a, b) for p, a, b in rows if _PEOPLE[p][2] == pid], start, start + 3600
        )
        for pid in people
    }


@pytest.mark.parametrize("kind", sorted(WRITERS))
@settings(max_examples=25)
@given(rows=_rows(), data=st.data())
def test_reordering_duplicating_or_splitting_rows_never_changes_attended_time(
    kind: str, rows: list[Row], data: st.DataObject
) -> None:
    series = reports_series()
    write = WRITERS[kind]
    baseline = seconds_by_person(read_report_bytes(write(rows), f"r.{kind}", series), series)
    assert baseline == _expected(rows)

    changed = list(rows)
    for _ in range(data.draw(st.integers(0, 3), label="splits")):
        index = data.draw(st.integers(0, len(changed) - 1), label="split row")
        person, start, end = changed[index]
        cut = data.draw(st.integers(start, end), label="split at")
        changed[index : index + 1] = [(person, start, cut), (person, cut, end)]
    for _ in range(data.draw(st.integers(0, 3), label="duplicates")):
        changed.append(data.draw(st.sampled_from(changed), label="duplicate"))
    changed = data.draw(st.permutations(changed), label="order")

    reading = read_report_bytes(write(changed), f"changed.{kind}", series)
    assert seconds_by_person(reading, series) == baseline


@settings(max_examples=25)
@given(rows=_rows())
def test_every_per_join_format_agrees_on_the_same_meeting(rows: list[Row]) -> None:
    series = reports_series()
    results = [
        seconds_by_person(read_report_bytes(write(rows), f"r.{kind}", series), series)
        for kind, write in sorted(WRITERS.items())
    ]
    assert all(result == results[0] for result in results)


def test_every_per_join_record_lies_where_its_row_says() -> None:
    series = reports_series()
    start = _session_start()
    rows: list[Row] = [(0, start - 300, start + 1200), (0, start + 1500, start + 4000)]
    reading = read_report_bytes(_zoom_api(rows), "r.json", series)
    got = [(int(r.joined_at.timestamp()), int(r.left_at.timestamp())) for r in reading.records]
    assert got == [(a, b) for _, a, b in rows]
    assert all(r.joined_at.utcoffset() == timedelta(0) for r in reading.records)


# ---------------------------------------------------------------------------------------------
# Fuzzing: only the library's own error, whatever the bytes


def _read_or_refuse(data: bytes, name: str = "fuzz.csv") -> None:
    problem: BalintCmeError | None = None
    try:
        read_report_bytes(data, name, reports_series())
    except BalintCmeError as err:
        problem = err
    if problem is not None:
        assert str(problem).startswith(name), str(problem)


@given(st.binary(max_size=3000))
def test_random_bytes_raise_only_the_librarys_error(data: bytes) -> None:
    _read_or_refuse(data)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=500))
def test_random_text_raises_only_the_librarys_error(text: str) -> None:
    _read_or_refuse(text.encode("utf-8", "surrogatepass"))


_FIXTURE_BYTES = [path.read_bytes() for path in FIXTURES]


@given(st.data())
def test_mutated_real_reports_raise_only_the_librarys_error(data: st.DataObject) -> None:
    raw = bytearray(data.draw(st.sampled_from(_FIXTURE_BYTES), label="fixture"))
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        if not raw:
            break
        position = data.draw(st.integers(0, len(raw) - 1), label="at")
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip":
            raw[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[position : position + data.draw(st.integers(1, 40))]
        elif action == "insert":
            raw[position:position] = data.draw(st.binary(min_size=1, max_size=12))
        else:
            del raw[position:]
    _read_or_refuse(bytes(raw))


_NASTY = st.sampled_from(
    ["", ",", '"', "\t", "\n", "\r", "(", ")", "/", ":", "13", "00", "99", "PM", "-", "\x00", "Z"]
)


@given(st.data())
def test_text_level_mutations_of_real_reports_raise_only_the_librarys_error(
    data: st.DataObject,
) -> None:
    raw = data.draw(st.sampled_from(_FIXTURE_BYTES), label="fixture")
    is_utf16 = raw.startswith(b"\xff\xfe")
    text = raw.decode("utf-16") if is_utf16 else raw.decode("utf-8-sig")
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        position = data.draw(st.integers(0, max(len(text) - 1, 0)), label="at")
        width = data.draw(st.integers(0, 6), label="width")
        text = text[:position] + data.draw(_NASTY | st.text(max_size=4)) + text[position + width :]
    _read_or_refuse(text.encode("utf-16" if is_utf16 else "utf-8", "surrogatepass"))


@given(st.data())
def test_truncated_utf16_reports_raise_only_the_librarys_error(data: st.DataObject) -> None:
    raw = (
        REPORTS / data.draw(st.sampled_from(["teams-2021-03.csv", "teams-2024-06.csv"]))
    ).read_bytes()
    _read_or_refuse(raw[: data.draw(st.integers(0, len(raw)))])


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "participants",
                        "name",
                        "user_email",
                        "join_time",
                        "leave_time",
                        "status",
                        "duration",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_any_json_shape_raises_only_the_librarys_error(document: object) -> None:
    _read_or_refuse(json.dumps(document).encode(), "fuzz.json")


def test_deeply_nested_json_is_refused_cleanly() -> None:
    with pytest.raises(DataFileError, match="nested too deeply"):
        read_report_bytes(b"[" * 100_000, "deep.json", reports_series())


def test_reading_is_independent_of_the_process_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    series = reports_series()
    path = REPORTS / "zoom-classic-2020-11.csv"
    expected = seconds_by_person(read_report(path, series), series)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    if hasattr(time, "tzset"):
        time.tzset()
    try:
        assert seconds_by_person(read_report(path, series), series) == expected
    finally:
        monkeypatch.undo()
        if hasattr(time, "tzset"):
            time.tzset()
    assert os.environ.get("TZ") != "Asia/Tokyo"


def test_sources_say_which_files_are_aggregate_and_which_zone_was_read() -> None:
    reading = read_reports(
        [
            (REPORTS / "zoom-unique-2022-10.csv", None),
            (REPORTS / "zoom-api-2020-11-pages.json", None),
            (REPORTS / "teams-2024-06.csv", None),
        ],
        reports_series(),
    )
    assert [(s.is_aggregate, s.export_tz) for s in reading.sources] == [
        (True, "America/Los_Angeles"),
        (False, None),  # every API time carries "Z"
        (False, "America/Los_Angeles"),
    ]


def test_a_per_join_sign_in_sheet_is_not_flagged_as_aggregate(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(b"name,join,leave\nAna Ruiz,2022-10-12 18:45,2022-10-12 19:30\n")
    reading = read_reports(
        [(REPORTS / "zoom-classic-2022-10-resaved.csv", None), (sheet, None)], reports_series()
    )
    assert [s.is_aggregate for s in reading.sources] == [False, False]
    assert not any("aggregate" in note for note in reading.notes)
