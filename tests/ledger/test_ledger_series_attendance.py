"""Ledger.series_attendance(): a series' attendance records back as recorded, in one query."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balint_cme import (
    AttendanceRecord,
    AttendanceRegister,
    DataFileError,
    Evidence,
    LedgerError,
    Series,
    award_series,
)
from balint_cme.ledger import SCHEMA_VERSION, Ledger
from balint_cme.usecases.on_record import recorded_register
from tests.conftest import EXAMPLES

ACTOR = "Test Coordinator"
SERIES_FILE = EXAMPLES / "ssvms-balint-2020.toml"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ledgers"
MOMENT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _open(path: Path) -> Ledger:
    return Ledger.open(path, clock=lambda: MOMENT)


def _record(ledger: Ledger, series: Series, records: list[AttendanceRecord]) -> None:
    ledger.record_series(
        series, content=SERIES_FILE.read_bytes(), file_name=SERIES_FILE.name, actor=ACTOR
    )
    awards = award_series(series, AttendanceRegister(records))
    ledger.record_attendance(series.id, awards, records, sources={"a.csv": "0" * 64}, actor=ACTOR)


def _in_order(records: list[AttendanceRecord]) -> list[AttendanceRecord]:
    return sorted(records, key=lambda r: (r.participant_id, r.session, r.joined_at, r.left_at))


_ZONES = st.one_of(
    st.just(UTC),
    st.sampled_from(
        [ZoneInfo("America/New_York"), ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")]
    ),
    st.timezones(),
    st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    ),
)

_EVIDENCE = st.one_of(
    st.none(),
    st.builds(
        Evidence,
        source=st.text(min_size=1, max_size=20),
        line=st.none() | st.integers(min_value=1, max_value=10**7),
        platform=st.none() | st.sampled_from(["zoom", "zoom-api", "teams", "sign-in"]),
        line_ranges=st.lists(
            st.tuples(st.integers(1, 10**6), st.integers(0, 10**6)).map(
                lambda pair: (pair[0], pair[0] + pair[1])
            ),
            max_size=4,
        ).map(tuple),
        rows=st.integers(min_value=1, max_value=10**6),
    ),
)


@st.composite
def _records(draw: st.DrawFn, series: Series) -> list[AttendanceRecord]:
    roster = [p.id for p in series.participants]
    shared = draw(_EVIDENCE)  # one Evidence behind several records, as a reader merges them
    found = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        session = draw(st.integers(min_value=1, max_value=len(series.sessions)))
        starts_at = series.sessions[session - 1].starts_at
        assert starts_at is not None
        zone = draw(_ZONES)
        # Anywhere around the session, to the microsecond, in any zone (wall time included:
        # a time in a zone's gap or fold comes back as it went in).
        joined = (starts_at + timedelta(seconds=draw(st.integers(-7200, 7200)))).astimezone(zone)
        joined = joined.replace(
            microsecond=draw(st.integers(0, 999_999)), fold=draw(st.integers(0, 1))
        )
        left = joined + timedelta(microseconds=draw(st.integers(0, 3 * 3600 * 10**6)))
        found.append(
            AttendanceRecord(
                participant_id=draw(st.sampled_from(roster)),
                session=session,
                joined_at=joined,
                left_at=left,
                evidence=draw(st.just(shared) | _EVIDENCE),
            )
        )
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_series_attendance_returns_the_records_as_recorded(
    series_2020: Series, data: st.DataObject
) -> None:
    records = data.draw(_records(series_2020))
    with tempfile.TemporaryDirectory() as folder, _open(Path(folder) / "l.sqlite3") as ledger:
        _record(ledger, series_2020, records)
        back = ledger.series_attendance(series_2020.id)
        assert list(back) == _in_order(records)
        for got, given_ in zip(back, _in_order(records), strict=True):
            assert got.joined_at.tzinfo is not None
            assert got.left_at.tzinfo is not None
            assert got.joined_at.utcoffset() == given_.joined_at.utcoffset()
            assert got.evidence == given_.evidence
            if isinstance(given_.joined_at.tzinfo, ZoneInfo):  # the zone itself comes back
                assert got.joined_at.tzinfo is given_.joined_at.tzinfo
        assert ledger.check_chain().is_intact


def test_recording_again_changes_nothing_and_a_session_left_out_is_removed(
    tmp_path: Path, series_2020: Series
) -> None:
    start = series_2020.sessions[0].starts_at
    assert start is not None
    zone = ZoneInfo("America/New_York")
    evidence = Evidence(source="zoom.csv", line=4, platform="zoom", line_ranges=((4, 9),), rows=6)
    records = [
        AttendanceRecord(
            participant_id="p01",
            session=1,
            joined_at=start.astimezone(zone),
            left_at=(start + timedelta(minutes=88)).astimezone(zone),
            evidence=evidence,
        ),
        AttendanceRecord(
            participant_id="p02",
            session=1,
            joined_at=start,
            left_at=start + timedelta(minutes=30),
        ),
    ]
    with _open(tmp_path / "l.sqlite3") as ledger:
        _record(ledger, series_2020, records)
        head = ledger.head()
        _record(ledger, series_2020, records)
        assert ledger.head() == head  # unchanged data writes nothing
        assert ledger.series_attendance(series_2020.id) == tuple(records)
        _record(ledger, series_2020, records[:1])
        assert ledger.series_attendance(series_2020.id) == tuple(records[:1])
        assert ledger.series_attendance("no-such-series") == ()
        assert ledger.check_chain().is_intact


def _selects(ledger: Ledger, action: Callable[[], object]) -> list[str]:
    statements: list[str] = []
    connection: sqlite3.Connection = ledger._connection  # the one connection the ledger uses
    connection.set_trace_callback(statements.append)
    try:
        action()
    finally:
        connection.set_trace_callback(None)
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_a_series_attendance_is_read_in_one_query_whatever_the_roster(
    tmp_path: Path, series_2020: Series
) -> None:
    records = [
        AttendanceRecord.in_session(series_2020.sessions[session - 1], person.id, 0, 80)
        for person in series_2020.participants
        for session in (1, 2, 3)
    ]
    assert len(series_2020.participants) > 2
    with _open(tmp_path / "l.sqlite3") as ledger:
        _record(ledger, series_2020, records)
        assert len(_selects(ledger, lambda: ledger.series_attendance(series_2020.id))) == 1
        # The workflow's read-back (certify, credits, transcript, PARS) asks it once too.
        found: list[AttendanceRegister] = []
        selects = _selects(ledger, lambda: found.append(recorded_register(ledger, series_2020)))
        assert len(selects) == 1
        assert list(found[0].records) == _in_order(records)


def test_attendance_recorded_at_schema_3_reads_back_as_its_merged_intervals(
    tmp_path: Path, series_2020: Series
) -> None:
    path = tmp_path / "ledger.sqlite3"
    shutil.copyfile(FIXTURES / "schema3-attendance.sqlite3", path)
    path.chmod(0o600)
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 3
    connection.close()
    with Ledger.open(path, create=False) as ledger:
        assert ledger.check_chain().is_intact
        back = ledger.series_attendance(series_2020.id)
        # Schema 3 kept each session's union in whole seconds and no evidence: that is what
        # comes back (two stays in session 1, one in session 2), as aware times.
        assert [(r.participant_id, r.session) for r in back] == [("p01", 1), ("p01", 1), ("p01", 2)]
        assert all(r.evidence is None and r.joined_at.tzinfo is not None for r in back)
        assert back[0].left_at - back[0].joined_at == timedelta(minutes=40)
        # Recording again keeps the records themselves from now on.
        first = back[0].model_copy(update={"evidence": Evidence(source="zoom-1.csv", line=2)})
        records = [first, *back[1:]]
        _record(ledger, series_2020, records)
        assert ledger.series_attendance(series_2020.id) == tuple(records)
        assert ledger.check_chain().is_intact
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    finally:
        connection.close()


@pytest.mark.parametrize(
    "text",
    [
        '{"evidence": [], "records": [["2020-09-09T18:00:00", "2020-09-09T19:00:00", null]]}',
        '{"evidence": [], "records": [["2020-09-09T18:00:00Z", "x", null]]}',
        '{"evidence": [], "records": [["2020-09-09T18:00:00Z", "2020-09-09T19:00:00Z", 3]]}',
        "[]",
    ],
)
def test_a_damaged_stored_record_is_a_ledger_error_naming_the_file(
    tmp_path: Path, series_2020: Series, text: str
) -> None:
    start = series_2020.sessions[0].starts_at
    assert start is not None
    path = tmp_path / "l.sqlite3"
    with _open(path) as ledger:
        _record(
            ledger,
            series_2020,
            [AttendanceRecord(participant_id="p01", session=1, joined_at=start, left_at=start)],
        )
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE attendance_records SET records = ?", (text,))
    connection.close()
    with _open(path) as ledger, pytest.raises(LedgerError, match="damaged record") as caught:
        ledger.series_attendance(series_2020.id)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("wall", "fold"),
    [
        (datetime(2026, 3, 8, 2, 30), 0),  # in New York's spring gap: a time that never was
        (datetime(2026, 3, 8, 2, 30), 1),
        (datetime(2026, 11, 1, 1, 30), 0),  # in the autumn fold: the first 01:30 ...
        (datetime(2026, 11, 1, 1, 30), 1),  # ... and the second
    ],
)
def test_a_wall_time_in_a_gap_or_fold_comes_back_as_it_went_in(
    tmp_path: Path, series_2020: Series, wall: datetime, fold: int
) -> None:
    zone = ZoneInfo("America/New_York")
    joined = wall.replace(tzinfo=zone, fold=fold)
    record = AttendanceRecord(participant_id="p01", session=1, joined_at=joined, left_at=joined)
    with _open(tmp_path / "l.sqlite3") as ledger:
        _record(ledger, series_2020, [record])
        (back,) = ledger.series_attendance(series_2020.id)
    assert back == record
    assert (back.joined_at.replace(tzinfo=None), back.joined_at.fold) == (wall, fold)
    assert back.joined_at.tzinfo is zone
    assert back.joined_at.utcoffset() == joined.utcoffset()


def test_an_older_ledger_opened_read_only_says_which_command_upgrades_it(tmp_path: Path) -> None:
    """The public verification server opens the ledger read-only, so it cannot upgrade an
    older schema itself: the one-line error names the command that does, the file is left as
    it was, and after that command the read-only open works."""
    path = tmp_path / "ledger.sqlite3"
    shutil.copyfile(FIXTURES / "schema3-attendance.sqlite3", path)
    path.chmod(0o600)
    before = path.read_bytes()
    with pytest.raises(DataFileError, match=r"schema 3.*read-only.*balint-cme ledger check"):
        Ledger.open(path, create=False, read_only=True)
    assert path.read_bytes() == before
    with Ledger.open(path, create=False) as ledger:  # what `ledger check` does first
        assert ledger.check_chain().is_intact
    with Ledger.open(path, create=False, read_only=True) as ledger:
        assert ledger.check_chain().is_intact
