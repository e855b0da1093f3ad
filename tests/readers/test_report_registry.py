"""The reader registry: every report format behind one interface, found by a loop over readers.

Each reader claims only its own header; the order of the registry never changes what a file
is read as (a header two readers claim is refused, naming both); a new format is one reader
and one registry entry; and read_reports() takes plain paths as well as (path, session) pairs.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balint_cme.errors import BalintCmeError, DataFileError
from balint_cme.io import report_formats
from balint_cme.io.report_formats import READERS, detect_format, detect_reader
from balint_cme.io.report_rows import ParsedReport, ReportReader, ReportRow
from balint_cme.io.report_text import MAX_LINE_CHARS, ReportHead, decode_report
from balint_cme.io.reports import read_report, read_report_bytes, read_reports
from tests.report_helpers import REPORTS, reports_series, seconds_by_person

FIXTURES = sorted(p for p in REPORTS.glob("*") if p.suffix in {".csv", ".json"})


def _text(path: Path) -> str:
    return decode_report(path.read_bytes(), path)[0]


def _claimants(text: str, readers: tuple[ReportReader, ...] = READERS) -> list[str]:
    head = ReportHead(text, "report.csv")
    return [reader.kind for reader in readers if reader.is_header(head)]


# ---------------------------------------------------------------------------------------------
# Each reader claims only its own header


def test_the_registry_holds_one_reader_per_format() -> None:
    kinds = [reader.kind for reader in READERS]
    assert sorted(kinds) == ["sign-in-csv", "teams", "zoom-api-json", "zoom-csv"]
    assert len({reader.description for reader in READERS}) == len(READERS)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_real_report_is_claimed_by_exactly_one_reader(path: Path) -> None:
    text = _text(path)
    claimed = _claimants(text)
    assert len(claimed) == 1, claimed
    assert claimed == [detect_format(text, path)]


HEADERS = {
    "teams": [
        "Meeting Summary",
        "1. Summary",
        "2. Participants",
        "3. In-Meeting Activities",
        "Full Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole",
        "Name\tFirst Join\tJoin Time\tRole",
    ],
    "zoom-csv": [
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants,",
        "Topic,ID,Host,Duration (minutes),Start time,End time,Participants",
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest",
        "Name (original name),Email,Join time,Leave time,Duration (minutes),Guest",
        "Name (Original Name),User Email,Total Duration (Minutes),Guest",
        "User Name,Join Time,Leave Time,Duration (Minutes)",
    ],
    "zoom-api-json": ['{"participants": []}', "[", '  {"page_count": 1'],
    "sign-in-csv": [
        "participant_id,name,email,session,join,leave,minutes,note",
        "name;minutes",
        "email\tjoin\tleave",
        "id,join,leave",
        "NAME,MINUTES,signature",
    ],
}


@pytest.mark.parametrize(
    ("kind", "line"),
    [(kind, line) for kind, lines in HEADERS.items() for line in lines],
)
def test_each_reader_claims_its_own_headers_and_no_other_reader_does(kind: str, line: str) -> None:
    assert _claimants(line + "\nrest of the file\n") == [kind]


@pytest.mark.parametrize(
    "line",
    ["a,b,c", "Name,Score", "Name,Join Time,Leave Time", "Full Name,Join Time", "join,leave"],
)
def test_no_reader_claims_a_header_that_is_none_of_the_formats(line: str) -> None:
    assert _claimants(line + "\n") == []
    with pytest.raises(DataFileError, match="is not a recognised attendance report"):
        detect_format(line + "\n", "report.csv")


def test_a_header_two_readers_claim_is_refused_naming_both_not_read_by_the_first() -> None:
    # A sign-in sheet that also carries a Zoom export's columns: which did the office mean?
    line = "name,minutes,Join Time,Leave Time,Duration (Minutes)"
    assert sorted(_claimants(line)) == ["sign-in-csv", "zoom-csv"]
    for order in itertools.permutations(READERS):
        with pytest.raises(DataFileError) as caught:
            detect_reader(line + "\nAna Ruiz,30,,,\n", "both.csv", order)
        message = str(caught.value)
        assert message.startswith("both.csv line 1:")
        assert "fits more than one report format" in message
        assert "Zoom participants export" in message
        assert "sign-in sheet" in message
    with pytest.raises(DataFileError, match="fits more than one report format"):
        read_report_bytes(f"{line}\nAna Ruiz,30,,,\n".encode(), "both.csv", reports_series())


def test_a_json_report_on_one_over_long_line_is_still_json() -> None:
    # Zoom API JSON is often one minified line: its length is not a line-length error.
    pages = (REPORTS / "zoom-api-2020-11-pages.json").read_text(encoding="utf-8")
    padded = pages.replace("[", "[" + " " * (MAX_LINE_CHARS + 10), 1).replace("\n", " ")
    assert "\n" not in padded
    assert len(padded) > MAX_LINE_CHARS
    series = reports_series()
    original = read_report(REPORTS / "zoom-api-2020-11-pages.json", series)
    one_line = read_report_bytes(padded.encode(), "pages.json", series)
    assert seconds_by_person(one_line, series) == seconds_by_person(original, series)


def test_an_over_long_first_line_is_refused_by_its_length() -> None:
    text = "Name," + "x" * MAX_LINE_CHARS + "\n"
    with pytest.raises(DataFileError, match=r"report\.csv line 1: line is [\d,]+ characters"):
        detect_format(text, "report.csv")


# ---------------------------------------------------------------------------------------------
# The order of the registry never matters

_COLUMNS = sorted(
    {
        "Name",
        "Full Name",
        "Name (Original Name)",
        "User Email",
        "Email",
        "Join Time",
        "Leave Time",
        "Duration (Minutes)",
        "Total Duration (Minutes)",
        "Role",
        "Meeting ID",
        "Topic",
        "ID",
        "Start Time",
        "participant_id",
        "name",
        "email",
        "session",
        "join",
        "leave",
        "minutes",
        "note",
        "1. Summary",
        "Meeting Summary",
    }
)


@settings(max_examples=300, deadline=None)
@given(
    columns=st.lists(st.sampled_from(_COLUMNS), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", "\t", ";"]),
    opening=st.sampled_from(["", "{", "[", "  "]),
    order=st.permutations(READERS),
)
def test_what_a_header_is_read_as_never_depends_on_the_order_of_the_readers(
    columns: list[str], delimiter: str, opening: str, order: list[ReportReader]
) -> None:
    text = opening + delimiter.join(columns) + "\nsome,row\n"
    claimed = _claimants(text)

    def outcome(readers: tuple[ReportReader, ...] | list[ReportReader]) -> str:
        try:
            return detect_reader(text, "report.csv", readers)[0].kind
        except DataFileError as err:
            return "refused" if str(err).startswith("report.csv") else f"misnamed: {err}"

    found = outcome(READERS)
    assert outcome(order) == found
    # Read as a format exactly when one reader, and only that one, claims the header.
    assert found == (claimed[0] if len(claimed) == 1 else "refused")


@settings(max_examples=100, deadline=None)
@given(
    columns=st.lists(st.sampled_from(_COLUMNS), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", "\t", ";"]),
    rows=st.lists(
        st.lists(st.sampled_from(["", "Ana Ruiz", "p01", "45", "18:45", "11/11/2020 06:45 PM"])),
        max_size=4,
    ),
)
def test_any_header_and_rows_raise_only_the_librarys_error_naming_the_file(
    columns: list[str], delimiter: str, rows: list[list[str]]
) -> None:
    lines = [delimiter.join(columns), *(delimiter.join(row) for row in rows)]
    message = "sheet.csv"
    try:
        read_report_bytes("\n".join(lines).encode(), "sheet.csv", reports_series())
    except BalintCmeError as err:
        message = str(err)
    assert message.startswith("sheet.csv")


# ---------------------------------------------------------------------------------------------
# A new format is one reader and one registry entry


class _RollCall:
    """A made-up format: "ROLL CALL" then "name;minutes" lines."""

    kind = "roll-call"
    description = "roll call"

    def is_header(self, head: ReportHead) -> bool:
        return head.line.strip() == "ROLL CALL"

    def parse(self, text: str, head: ReportHead, path: Path | str) -> ParsedReport:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if number > head.number and line.strip():
                name, minutes = line.split(";")
                rows.append(ReportRow(number, name, total_seconds=int(minutes) * 60))
        return ParsedReport(
            format="roll-call", platform="sign-in", rows=tuple(rows), is_aggregate=True
        )


def test_a_reader_added_to_the_registry_is_used_for_its_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = b"ROLL CALL\nAna Ruiz;30\n"
    series = reports_series()
    with pytest.raises(DataFileError, match="is not a recognised attendance report"):
        read_report_bytes(data, "roll.txt", series, session=2)
    monkeypatch.setattr(report_formats, "READERS", (*READERS, _RollCall()))
    reading = read_report_bytes(data, "roll.txt", series, session=2)
    assert reading.sources[0].format == "roll-call"
    assert seconds_by_person(reading, series) == {("p01", 2): 30 * 60}
    with pytest.raises(DataFileError, match=r"sign-in sheet or roll call$"):
        read_report_bytes(b"a,b\n", "x.csv", series)


# ---------------------------------------------------------------------------------------------
# read_reports: plain paths, pairs and triples


def _files() -> list[Path]:
    return [
        REPORTS / "zoom-classic-2020-09.csv",
        REPORTS / "zoom-classic-2020-11.csv",
        REPORTS / "teams-2024-06.csv",
    ]


def test_read_reports_takes_plain_paths_as_it_takes_pairs() -> None:
    series = reports_series()
    pairs = read_reports([(path, None) for path in _files()], series)
    plain = read_reports(_files(), series)
    as_text = read_reports([str(path) for path in _files()], series)
    for reading in (plain, as_text):
        assert seconds_by_person(reading, series) == seconds_by_person(pairs, series)
        assert [s.sha256 for s in reading.sources] == [s.sha256 for s in pairs.sources]
        assert [s.session for s in reading.sources] == [1, 2, 7]
        assert reading.notes == pairs.notes
        assert reading.unmatched == pairs.unmatched


def test_read_reports_mixes_plain_paths_pairs_and_triples() -> None:
    series = reports_series()
    september, november, teams = _files()
    mixed = read_reports([september, (str(november), 2), (teams, None, None)], series)
    pairs = read_reports([(path, None) for path in _files()], series)
    assert seconds_by_person(mixed, series) == seconds_by_person(pairs, series)
    assert [s.path for s in mixed.sources] == [str(p) for p in _files()]


def test_a_plain_path_finds_its_session_and_a_named_one_is_checked() -> None:
    series = reports_series()
    september = REPORTS / "zoom-classic-2020-09.csv"
    assert read_reports([september], series).sources[0].session == 1
    with pytest.raises(DataFileError, match="do not overlap session 2"):
        read_reports([(september, 2)], series)


def test_a_report_given_in_no_known_shape_is_a_type_error_before_any_file_is_read(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "never-read.csv"
    for bad in [(missing,), (missing, None, None, None), 42]:
        with pytest.raises(TypeError, match="a report is a path"):
            read_reports([REPORTS / "zoom-classic-2020-09.csv", bad], reports_series())  # type: ignore[list-item]
