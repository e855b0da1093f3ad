"""The ledger: numbers, idempotent issuing, versions, revocation, retention, consent, the chain."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balint_cme import (
    AttendanceRegister,
    BalintCmeError,
    DataFileError,
    Evidence,
    LedgerError,
    RetentionError,
    Series,
    award_series,
)
from balint_cme.ledger import (
    LEDGER_FILE_ENV,
    NUMBER_PATTERN,
    SCHEMA_VERSION,
    Ledger,
    default_ledger_path,
    retention_ends_on,
)
from balint_cme.ledger.schema import TABLES
from tests.conftest import EXAMPLES, attend

ACTOR = "Test Coordinator"
SERIES_FILE = EXAMPLES / "ssvms-balint-2020.toml"


class FakeClock:
    """A clock that starts at `start` and moves one second per reading."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(tmp_path: Path, clock: FakeClock) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "ledger.sqlite3", clock=clock) as opened:
        yield opened


def record(ledger: Ledger, series: Series) -> None:
    ledger.record_series(
        series, content=SERIES_FILE.read_bytes(), file_name=SERIES_FILE.name, actor=ACTOR
    )


def reserve(
    ledger: Ledger,
    series: Series,
    participant_id: str = "p01",
    *,
    name: str = "Ana Ruiz",
    credits: str = "5.00",
    issued_on: date = date(2026, 3, 1),
) -> Any:
    return ledger.reserve(
        series_id=series.id,
        participant_id=participant_id,
        kind="credit",
        credits=Decimal(credits),
        session_dates=[date(2020, 9, 9), date(2020, 10, 14)],
        claims={"name": name, "title": series.title},
        issued_on=issued_on,
        actor=ACTOR,
    )


def confirm(ledger: Ledger, number: str, version: int, pdf: bytes = b"%PDF-1") -> Any:
    return ledger.confirm(
        number,
        version,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        file_name=f"{number}-v{version}.pdf",
        verification_code=f"code-{number}-{version}",
        actor=ACTOR,
    )


def issue(ledger: Ledger, series: Series, participant_id: str = "p01", **claims: Any) -> Any:
    reservation = reserve(ledger, series, participant_id, **claims)
    if reservation.needs_file:
        confirm(ledger, reservation.certificate.number, reservation.certificate.version)
    return reservation


# ---------------------------------------------------------------------------------------------
# Opening


def test_ledger_is_created_on_first_use_in_wal_mode_readable_by_owner_only(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "new" / "dir" / "ledger.sqlite3"
    with Ledger.open(path, clock=clock) as ledger:
        assert ledger.number_prefix == "BC"
        assert ledger.retention_years == 6
        assert ledger.check_chain().is_intact
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    connection.close()


def test_ledger_open_refuses_missing_file_when_create_is_false(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="no ledger here") as caught:
        Ledger.open(tmp_path / "absent.sqlite3", create=False)
    assert caught.value.path == tmp_path / "absent.sqlite3"
    assert not (tmp_path / "absent.sqlite3").exists()


def test_ledger_open_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("id,name\n1,Ana\n")
    with pytest.raises(DataFileError, match="not a balint_cme ledger") as caught:
        Ledger.open(path)
    assert str(path) in str(caught.value)
    assert path.read_text() == "id,name\n1,Ana\n"


def test_ledger_open_refuses_another_programs_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE things (x)")
    connection.commit()
    connection.close()
    with pytest.raises(DataFileError, match="SQLite database, but not a balint_cme ledger"):
        Ledger.open(path)


def test_ledger_open_refuses_a_newer_schema(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger.open(path, clock=clock).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(DataFileError, match="newer balint_cme"):
        Ledger.open(path)


def test_ledger_open_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="directory"):
        Ledger.open(tmp_path)


def test_default_ledger_path_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(LEDGER_FILE_ENV, str(tmp_path / "mine.sqlite3"))
    assert default_ledger_path() == tmp_path / "mine.sqlite3"
    monkeypatch.delenv(LEDGER_FILE_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_ledger_path() == tmp_path / "data" / "balint-cme" / "ledger.sqlite3"


def test_number_prefix_is_fixed_when_the_file_is_made(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger.open(path, clock=clock, number_prefix="FMMS").close()
    with Ledger.open(path, clock=clock, number_prefix="XX") as ledger:
        assert ledger.number_prefix == "FMMS"


# ---------------------------------------------------------------------------------------------
# Issuing


def test_reserve_then_confirm_issues_a_valid_certificate(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    reservation = reserve(ledger, series_2020)
    assert reservation.outcome == "new"
    assert reservation.needs_file
    certificate = reservation.certificate
    assert certificate.number == "BC-2026-000001"
    assert NUMBER_PATTERN.fullmatch(certificate.number)
    assert (certificate.version, certificate.state) == (1, "pending")
    assert ledger.status(certificate.number).state == "pending"
    issued = confirm(ledger, certificate.number, 1)
    assert issued.state == "issued"
    status = ledger.status(" bc-2026-000001 ")
    assert status.describe() == "valid"
    assert status.certificate is not None
    assert status.certificate.credits == Decimal("5.00")
    assert status.certificate.claims == {"name": "Ana Ruiz", "title": "2020 Balint Group"}
    assert status.certificate.verification_code == "code-BC-2026-000001-1"


def test_reserve_returns_the_original_certificate_when_claims_are_unchanged(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    first = issue(ledger, series_2020).certificate
    head = ledger.head()
    again = reserve(ledger, series_2020, issued_on=date(2027, 1, 15))
    assert again.outcome == "unchanged"
    assert not again.needs_file
    assert again.certificate.number == first.number
    assert again.certificate.version == 1
    assert again.certificate.issued_on == date(2026, 3, 1)
    assert ledger.head() == head  # nothing written


def test_reserve_issues_a_new_version_when_the_name_changes(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    first = issue(ledger, series_2020).certificate
    corrected = reserve(ledger, series_2020, name="Ana M. Ruiz", issued_on=date(2026, 4, 2))
    assert corrected.outcome == "new-version"
    assert corrected.changed == ("name",)
    assert corrected.certificate.number == first.number
    assert corrected.certificate.version == 2
    assert corrected.certificate.issued_on == date(2026, 4, 2)
    # Until the new PDF is confirmed, version 1 stays the valid one.
    assert ledger.status(first.number).version == 1
    assert ledger.status(first.number).state == "valid"
    confirm(ledger, first.number, 2, b"%PDF-2")
    old = ledger.status(first.number, 1)
    assert old.state == "superseded"
    assert old.describe() == "superseded by version 2 (changed: name)"
    assert ledger.status(first.number).describe() == "valid"
    assert [c.state for c in ledger.certificates(participant_id="p01")] == ["superseded", "issued"]


def test_reserve_issues_a_new_version_when_credits_change(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    issue(ledger, series_2020)
    changed = reserve(ledger, series_2020, credits="4.75")
    assert changed.outcome == "new-version"
    assert changed.changed == ("credits",)


def test_reserve_resumes_a_pending_reservation_without_a_new_number(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    first = reserve(ledger, series_2020)
    again = reserve(ledger, series_2020, issued_on=date(2026, 3, 9))
    assert again.outcome == "resumed"
    assert again.certificate.number == first.certificate.number
    assert again.certificate.issued_on == date(2026, 3, 1)
    assert [c.number for c in ledger.pending()] == [first.certificate.number]


def test_reserve_abandons_a_pending_version_when_the_change_is_undone(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    issue(ledger, series_2020)
    assert reserve(ledger, series_2020, name="Typo Name").outcome == "new-version"
    back = reserve(ledger, series_2020)
    assert back.outcome == "unchanged"
    assert back.certificate.version == 1
    assert ledger.pending() == ()
    assert ledger.check_chain().is_intact


def test_numbers_are_one_per_person_per_series(ledger: Ledger, series_2020: Series) -> None:
    record(ledger, series_2020)
    numbers = {pid: issue(ledger, series_2020, pid).certificate.number for pid in ("p01", "p02")}
    assert numbers == {"p01": "BC-2026-000001", "p02": "BC-2026-000002"}
    assert issue(ledger, series_2020, "p01", name="Ana R.").certificate.number == numbers["p01"]


def test_reserve_refuses_an_unrecorded_series_or_person(
    ledger: Ledger, series_2020: Series
) -> None:
    with pytest.raises(LedgerError, match="record the series first"):
        reserve(ledger, series_2020)
    record(ledger, series_2020)
    with pytest.raises(LedgerError, match="not enrolled"):
        reserve(ledger, series_2020, "nobody")


def test_reserve_refuses_credits_off_the_quarter_hour(ledger: Ledger, series_2020: Series) -> None:
    record(ledger, series_2020)
    with pytest.raises(ValueError, match=r"multiple of 0\.25"):
        reserve(ledger, series_2020, credits="1.1")


def test_confirm_refuses_a_different_pdf_for_an_issued_version(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    number = issue(ledger, series_2020).certificate.number
    confirm(ledger, number, 1)  # the same PDF again: no change
    with pytest.raises(LedgerError, match="different PDF"):
        confirm(ledger, number, 1, b"%PDF-other")
    with pytest.raises(LedgerError, match="never reserved"):
        confirm(ledger, number, 7)


def test_status_reports_altered_when_the_pdf_hash_differs(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    number = issue(ledger, series_2020).certificate.number
    good = hashlib.sha256(b"%PDF-1").hexdigest()
    assert ledger.status(number, pdf_sha256=good).state == "valid"
    altered = ledger.status(number, pdf_sha256=hashlib.sha256(b"edited").hexdigest())
    assert altered.state == "altered"
    assert altered.describe().startswith("altered: ")


@pytest.mark.parametrize("typed", ["BC-2026-999999", "nonsense", "", "'; DROP TABLE audit; --"])
def test_status_is_unknown_for_numbers_never_issued(
    ledger: Ledger, series_2020: Series, typed: str
) -> None:
    record(ledger, series_2020)
    issue(ledger, series_2020)
    assert ledger.status(typed).describe() == "unknown"
    assert ledger.check_chain().is_intact


def test_revoke_reports_the_reason_and_the_number_is_never_reissued(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    number = issue(ledger, series_2020).certificate.number
    revoked = ledger.revoke(number, reason="attendance report was for another person", actor=ACTOR)
    assert revoked.revoked_by == ACTOR
    assert ledger.status(number).describe() == "revoked: attendance report was for another person"
    assert reserve(ledger, series_2020).outcome == "revoked"
    assert reserve(ledger, series_2020, name="Other").outcome == "revoked"
    with pytest.raises(LedgerError, match="already revoked"):
        ledger.revoke(number, reason="again", actor=ACTOR)
    with pytest.raises(LedgerError, match="no certificate"):
        ledger.revoke("BC-2026-000999", reason="x", actor=ACTOR)
    with pytest.raises(LedgerError, match="reason"):
        ledger.revoke(number, reason="  ", actor=ACTOR)


def test_revoking_a_number_reports_revoked_for_its_old_versions_too(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    number = issue(ledger, series_2020).certificate.number
    issue(ledger, series_2020, name="Ana M. Ruiz")
    ledger.revoke(number, reason="not eligible", actor=ACTOR)
    assert ledger.status(number, 1).state == "revoked"
    assert ledger.status(number, 2).state == "revoked"


def test_check_files_reports_missing_and_changed_pdfs(
    ledger: Ledger, series_2020: Series, tmp_path: Path
) -> None:
    record(ledger, series_2020)
    out = tmp_path / "out"
    out.mkdir()
    for pid in ("p01", "p02"):
        reservation = reserve(ledger, series_2020, pid)
        number = reservation.certificate.number
        (out / f"{number}-v1.pdf").write_bytes(b"%PDF-1")
        confirm(ledger, number, 1)
    assert ledger.check_files(out) == ()
    (out / "BC-2026-000001-v1.pdf").write_bytes(b"%PDF-edited")
    (out / "BC-2026-000002-v1.pdf").unlink()
    problems = ledger.check_files(out)
    assert len(problems) == 2
    assert "differs" in problems[0]
    assert "BC-2026-000002" in problems[1]


# ---------------------------------------------------------------------------------------------
# Series, attendance, verification requests


def test_record_series_keeps_each_distinct_file_once(ledger: Ledger, series_2020: Series) -> None:
    raw = SERIES_FILE.read_bytes()
    first = ledger.record_series(series_2020, content=raw, file_name="a.toml", actor=ACTOR)
    head = ledger.head()
    again = ledger.record_series(series_2020, content=raw, file_name="a.toml", actor=ACTOR)
    assert first.is_new
    assert not again.is_new
    assert ledger.head() == head
    edited = raw + b"\n# corrected\n"
    ledger.record_series(series_2020, content=edited, file_name="a.toml", actor=ACTOR)
    assert ledger.series_content(series_2020.id) == edited
    assert ledger.series_content(series_2020.id, first.sha256) == raw
    assert first.sha256 == hashlib.sha256(raw).hexdigest()


def test_attendance_for_answers_a_verification_request(ledger: Ledger, series_2020: Series) -> None:
    record(ledger, series_2020)
    evidence = Evidence(source="zoom-2020-09.csv", line=4, platform="zoom")
    records = [
        attend(series_2020, "p01", 1, 0, 30).evolve(evidence=evidence),
        attend(series_2020, "p01", 1, 28, 60).evolve(evidence=evidence.evolve(line=9)),
        attend(series_2020, "p01", 2, 0, 45),
    ]
    awards = award_series(series_2020, AttendanceRegister(records))
    sha = "ab" * 32
    assert ledger.record_attendance(
        series_2020.id, awards, records, sources={"zoom-2020-09.csv": sha}, actor=ACTOR
    ) == len(series_2020.participants)
    head = ledger.head()
    assert ledger.record_attendance(series_2020.id, awards, records, actor=ACTOR) == 1
    assert ledger.record_attendance(series_2020.id, awards, records, actor=ACTOR) == 0
    assert ledger.head()[0] == head[0] + 1  # only the dropped file hash was a change
    ledger.record_attendance(
        series_2020.id, awards, records, sources={"zoom-2020-09.csv": sha}, actor=ACTOR
    )
    issue(ledger, series_2020, credits="1.75")

    for query in ("p01", "ana.ruiz@example.org", "  ANA   RUIZ ", "Ana Ruiz"):
        (found,) = ledger.attendance_for(query)
        assert found.participant_id == "p01"
    (found,) = ledger.attendance_for("p01")
    assert found.title == "2020 Balint Group"
    assert found.points == Decimal("1.75")
    assert [(s.session, s.minutes, s.credit) for s in found.sessions] == [
        (1, Decimal("60.00"), Decimal("1.00")),
        (2, Decimal("45.00"), Decimal("0.75")),
    ]
    first = found.sessions[0]
    assert first.held_on == date(2020, 9, 9)
    assert first.sources == (
        {"file": "zoom-2020-09.csv", "sha256": sha, "platform": "zoom", "lines": [4, 9]},
    )
    # 0-30 and 28-60 minutes overlap: the ledger keeps their union, one interval.
    assert first.intervals == (("2020-09-09T18:45:00-07:00", "2020-09-09T19:45:00-07:00"),)
    assert [c.number for c in found.certificates] == ["BC-2026-000001"]
    assert ledger.attendance_for("Nobody Here") == ()
    assert ledger.attendance_for("Zoe Angstrom")[0].participant_id == "p02"  # an alias


def test_attendance_for_finds_a_person_by_npi(ledger: Ledger, series_2020: Series) -> None:
    person = series_2020.participants[0].evolve(npi="1234567893")
    series = series_2020.evolve(participants=(person, *series_2020.participants[1:]))
    record(ledger, series)
    assert [r.participant_id for r in ledger.attendance_for("1234567893")] == ["p01"]


def test_record_attendance_removes_sessions_no_longer_attended(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    records = [attend(series_2020, "p01", 1, 0, 60), attend(series_2020, "p01", 2, 0, 60)]
    ledger.record_attendance(
        series_2020.id, award_series(series_2020, AttendanceRegister(records)), records, actor=ACTOR
    )
    fewer = records[:1]
    ledger.record_attendance(
        series_2020.id, award_series(series_2020, AttendanceRegister(fewer)), fewer, actor=ACTOR
    )
    (found,) = ledger.attendance_for("p01")
    assert [s.session for s in found.sessions] == [1]
    assert ledger.check_chain().is_intact


# ---------------------------------------------------------------------------------------------
# A failed operation changes nothing


def _row_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        return {
            table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in (*TABLES, "audit")
        }
    finally:
        connection.close()


def test_a_failed_attendance_recording_leaves_no_rows(ledger: Ledger, series_2020: Series) -> None:
    record(ledger, series_2020)
    before = _row_counts(ledger.path)
    records = [attend(series_2020, "p01", 1, 0, 60)]
    awards = award_series(series_2020, AttendanceRegister(records))
    stranger = awards[0].evolve(participant_id="stranger")
    with pytest.raises(LedgerError, match="not enrolled"):
        # The first award is valid and written before the stranger's is refused.
        ledger.record_attendance(series_2020.id, (*awards, stranger), records, actor=ACTOR)
    assert _row_counts(ledger.path) == before
    assert ledger.check_chain().is_intact


def test_a_failed_reservation_leaves_no_rows(ledger: Ledger, series_2020: Series) -> None:
    record(ledger, series_2020)
    before = _row_counts(ledger.path)
    with pytest.raises(ValueError, match="JSON"):
        ledger.reserve(
            series_id=series_2020.id,
            participant_id="p01",
            kind="credit",
            credits=Decimal("1"),
            session_dates=[date(2020, 9, 9)],
            claims={"name": object()},
            issued_on=date(2026, 3, 1),
            actor=ACTOR,
        )
    with pytest.raises(LedgerError, match="actor"):
        ledger.reserve(
            series_id=series_2020.id,
            participant_id="p01",
            kind="credit",
            credits=Decimal("1"),
            session_dates=[date(2020, 9, 9)],
            claims={},
            issued_on=date(2026, 3, 1),
            actor=" ",
        )
    assert _row_counts(ledger.path) == before


# ---------------------------------------------------------------------------------------------
# Retention


def test_retention_ends_six_years_after_the_last_session() -> None:
    assert retention_ends_on(date(2020, 1, 8)) == date(2026, 1, 8)
    assert retention_ends_on(date(2024, 2, 29)) == date(2030, 3, 1)


def test_purge_before_retention_ends_is_refused_naming_the_date(
    ledger: Ledger, series_2020: Series
) -> None:
    record(ledger, series_2020)
    issue(ledger, series_2020)
    before = _row_counts(ledger.path)
    allowed = ledger.retention_ends_on(series_2020.id)
    assert allowed == date(2027, 1, 13)  # last session 13 January 2021
    with pytest.raises(RetentionError, match="2027-01-13") as caught:
        ledger.purge_series(series_2020.id, reason="done", actor=ACTOR, today=date(2027, 1, 12))
    assert caught.value.allowed_on == date(2027, 1, 13)
    assert _row_counts(ledger.path) == before


def test_purge_after_retention_deletes_records_and_is_audited(
    tmp_path: Path, series_2020: Series, series_2023: Series
) -> None:
    clock = FakeClock(datetime(2027, 2, 1, tzinfo=UTC))
    with Ledger.open(tmp_path / "ledger.sqlite3", clock=clock) as ledger:
        record(ledger, series_2020)
        # Ana is enrolled in another series too, so her personal data stays.
        ana = series_2020.participants[0]
        other = series_2023.evolve(participants=(ana,))
        ledger.record_series(other, content=b"2023", file_name="2023.toml", actor=ACTOR)
        ledger.record_consent("p02", wording_version="v1", given_at=clock(), actor=ACTOR)
        number = issue(ledger, series_2020, "p02").certificate.number
        report = ledger.purge_series(series_2020.id, reason="retention over", actor=ACTOR)
        assert report.allowed_from == date(2027, 1, 13)
        assert report.people_deleted == len(series_2020.participants) - 1
        assert ledger.status(number).state == "purged"
        assert ledger.find_people("p02") == ()
        assert ledger.consent("p02") is None
        (kept,) = ledger.find_people("p01")
        assert ledger.person(kept.person_id) is not None
        assert ledger.attendance_for("p01")[0].series_id == other.id
        assert ledger.series_content(series_2020.id) is None
        assert ledger.check_chain().is_intact
        events = ledger.audit_events(subject=series_2020.id)
        assert events[-1].action == "series.purged"
        assert events[-1].details["reason"] == "retention over"
        with pytest.raises(LedgerError, match="purged"):
            record(ledger, series_2020)


# ---------------------------------------------------------------------------------------------
# Consent


def test_consent_is_recorded_withdrawn_and_queried(
    ledger: Ledger, series_2020: Series, clock: FakeClock
) -> None:
    record(ledger, series_2020)
    given_at = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
    ledger.record_consent("p01", wording_version="2026-01", given_at=given_at, actor=ACTOR)
    ledger.record_consent("p03", wording_version="2026-01", given_at=given_at, actor=ACTOR)
    ana, grace = (ledger.resolve_person(pid).person_id for pid in ("p01", "p03"))
    assert set(ledger.consenting()) == {ana, grace}  # ledger person ids
    assert set(ledger.consenting(series_id=series_2020.id)) == {"p01", "p03"}  # roster ids
    assert ledger.consenting(series_id="other") == {}
    withdrawn = ledger.withdraw_consent("p03", withdrawn_at=clock(), actor=ACTOR)
    assert not withdrawn.is_given
    assert set(ledger.consenting()) == {ana}
    consent = ledger.consent("p01")
    assert consent is not None
    assert (consent.wording_version, consent.given_at) == ("2026-01", given_at)
    with pytest.raises(LedgerError, match="no person"):
        ledger.record_consent("ghost", wording_version="v1", given_at=given_at, actor=ACTOR)
    with pytest.raises(LedgerError, match="no consent"):
        ledger.withdraw_consent("f01", withdrawn_at=given_at, actor=ACTOR)
    actions = [e.action for e in ledger.audit_events(subject=grace)]
    assert actions[-2:] == ["consent.given", "consent.withdrawn"]


# ---------------------------------------------------------------------------------------------
# The audit chain


def test_audit_events_say_what_when_and_who(ledger: Ledger, series_2020: Series) -> None:
    record(ledger, series_2020)
    number = issue(ledger, series_2020).certificate.number
    events = ledger.audit_events(subject=number)
    assert [e.action for e in events] == ["certificate.reserved", "certificate.issued"]
    assert {e.actor for e in events} == {ACTOR}
    assert events[0].at < events[1].at
    assert events[1].details["pdf_sha256"] == hashlib.sha256(b"%PDF-1").hexdigest()
    assert ("certificates", f"{number}/1") == events[1].changes[0][:2]


def test_no_personal_data_in_the_audit_log(tmp_path: Path, series_2020: Series) -> None:
    person = series_2020.participants[0].evolve(
        npi="1234567893", license_state="CA", license_number="A123456", birth_month=7, birth_day=14
    )
    series = series_2020.evolve(participants=(person, *series_2020.participants[1:]))
    with Ledger.open(tmp_path / "ledger.sqlite3", clock=FakeClock()) as ledger:
        record(ledger, series)
        issue(ledger, series)
    connection = sqlite3.connect(tmp_path / "ledger.sqlite3")
    log = " ".join(" ".join(map(str, row)) for row in connection.execute("SELECT * FROM audit"))
    connection.close()
    for secret in ("A123456", "1234567893", "Ana Ruiz", "ana.ruiz@example.org"):
        assert secret not in log


def _tamper(path: Path, sql: str, *values: object) -> None:
    connection = sqlite3.connect(path)
    connection.execute(sql, values)
    connection.commit()
    connection.close()


@pytest.fixture
def issued_ledger(tmp_path: Path, series_2020: Series) -> Path:
    path = tmp_path / "ledger.sqlite3"
    with Ledger.open(path, clock=FakeClock()) as ledger:
        record(ledger, series_2020)
        records = [attend(series_2020, "p01", 1, 0, 60)]
        ledger.record_attendance(
            series_2020.id,
            award_series(series_2020, AttendanceRegister(records)),
            records,
            actor=ACTOR,
        )
        for pid in ("p01", "p02", "p03"):
            issue(ledger, series_2020, pid)
        ledger.record_consent("p01", wording_version="v1", given_at=FakeClock()(), actor=ACTOR)
        assert ledger.check_chain().is_intact
    return path


def _check(path: Path) -> Any:
    with Ledger.open(path, create=False) as ledger:
        return ledger.check_chain()


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE audit SET actor = 'Mallory' WHERE seq = 5", "audit event 5"),
        ("UPDATE audit SET details = '{}' WHERE seq = 3", "audit event 3"),
        ("DELETE FROM audit WHERE seq = 4", "audit events 4..4 are missing"),
        ("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)", "chain head"),
        (
            "UPDATE certificates SET credits = '50.00' WHERE number = 'BC-2026-000001'",
            "edited outside",
        ),
        ("DELETE FROM certificates WHERE number = 'BC-2026-000002'", "deleted outside"),
        (
            "INSERT INTO consents VALUES ('p02', 'v1', '2026-01-01T00:00:00+00:00', NULL)",
            "added outside",
        ),
        ("UPDATE meta SET value = '1' WHERE key = 'retention_years'", "edited outside"),
        ("UPDATE attendance SET attended_seconds = 7200", "edited outside"),
    ],
)
def test_check_chain_detects_changes_made_outside_balint_cme(
    issued_ledger: Path, sql: str, expected: str
) -> None:
    _tamper(issued_ledger, sql)
    report = _check(issued_ledger)
    assert not report.is_intact
    assert any(expected in problem for problem in report.problems), report.problems


def test_check_chain_detects_a_cut_tail_against_a_kept_head(issued_ledger: Path) -> None:
    head = _check(issued_ledger).head_hash
    connection = sqlite3.connect(issued_ledger)
    last, previous = connection.execute(
        "SELECT seq, (SELECT hash FROM audit WHERE seq = a.seq - 1) FROM audit a "
        "ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    connection.execute("DELETE FROM audit WHERE seq = ?", (last,))
    connection.execute("UPDATE chain_head SET seq = ?, hash = ?", (last - 1, previous))
    connection.execute("DELETE FROM consents")  # the cut event's row, to hide the trace
    connection.commit()
    connection.close()
    report = _check(issued_ledger)
    with Ledger.open(issued_ledger, create=False) as ledger:
        anchored = ledger.check_chain(expected_head=head)
    assert report.is_intact  # consistent on its own...
    assert not anchored.is_intact  # ...but not against the kept head


_COLUMNS = [(table, column) for table, spec in TABLES.items() for column in spec.columns]


_AUDIT_COLUMNS = [
    ("audit", c) for c in ("seq", "at", "actor", "action", "subject", "details", "changes", "hash")
]


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.sampled_from(
        [*_COLUMNS, *_AUDIT_COLUMNS, ("chain_head", "seq"), ("chain_head", "hash")]
    ),
    row_pick=st.integers(min_value=0, max_value=10_000),
    delete=st.booleans(),
    text=st.text(min_size=1, max_size=5),
)
def test_any_single_row_tamper_is_detected(
    issued_ledger: Path, target: tuple[str, str], row_pick: int, delete: bool, text: str
) -> None:
    table, column = target
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "ledger.sqlite3"
        shutil.copy(issued_ledger, copy)
        connection = sqlite3.connect(copy)
        rowids = [r[0] for r in connection.execute(f"SELECT rowid FROM {table}")]
        if not rowids:
            connection.close()
            return
        rowid = rowids[row_pick % len(rowids)]
        if delete:
            connection.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
        else:
            old = connection.execute(
                f"SELECT {column} FROM {table} WHERE rowid = ?", (rowid,)
            ).fetchone()[0]
            candidates: list[object]
            if isinstance(old, bytes):
                candidates = [old + text.encode()]
            elif isinstance(old, int):
                candidates = [old + 1]
            else:
                candidates = [f"{old or ''}{text}", 1]
            for candidate in candidates:
                try:
                    connection.execute(
                        f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (candidate, rowid)
                    )
                    break
                except sqlite3.IntegrityError:
                    continue
            else:
                connection.close()
                return  # the schema itself refuses such a value
        connection.commit()
        connection.close()
        assert _tamper_is_reported(copy)


def _tamper_is_reported(path: Path) -> bool:
    try:
        return not _check(path).is_intact
    except DataFileError:  # e.g. the meta rows that mark the file as a ledger were edited
        return True


def test_check_chain_of_a_new_ledger_is_intact(ledger: Ledger) -> None:
    report = ledger.check_chain()
    assert report.is_intact
    assert report.events_checked == 1
    assert report.head_seq == 1


@settings(max_examples=15)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["p01", "p02", "p03", "f01"]),
            st.sampled_from(["reserve", "issue", "revoke"]),
            st.sampled_from(["Ana Ruiz", "Ana M. Ruiz"]),
            st.sampled_from(["1.00", "2.00"]),
        ),
        max_size=12,
    )
)
def test_numbers_stay_unique_and_gapless_whatever_the_order(
    series_2020: Series, steps: list[tuple[str, str, str, str]]
) -> None:
    with (
        tempfile.TemporaryDirectory() as scratch,
        Ledger.open(Path(scratch) / "l.sqlite3", clock=FakeClock()) as ledger,
    ):
        record(ledger, series_2020)
        for pid, action, name, credits in steps:
            if action == "revoke":
                found = ledger.certificate_for(series_2020.id, pid)
                if found is not None and ledger.status(found.number).state != "revoked":
                    ledger.revoke(found.number, reason="test", actor=ACTOR)
                continue
            reservation = reserve(ledger, series_2020, pid, name=name, credits=credits)
            if action == "issue" and reservation.needs_file:
                confirm(ledger, reservation.certificate.number, reservation.certificate.version)
        certificates = ledger.certificates()
        holders: dict[str, set[str]] = {}
        for certificate in certificates:
            holders.setdefault(certificate.number, set()).add(certificate.participant_id)
        assert all(len(people) == 1 for people in holders.values())
        by_person = {c.participant_id: c.number for c in certificates}
        assert len(set(by_person.values())) == len(by_person)
        seqs = sorted(int(number.rsplit("-", 1)[1]) for number in holders)
        assert seqs == list(range(1, len(seqs) + 1))
        for number in holders:
            states = [c.state for c in certificates if c.number == number]
            assert states.count("issued") <= 1
            assert states.count("pending") <= 1
        assert ledger.check_chain().is_intact


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.none() | st.integers(min_value=0, max_value=200_000),
    flips=st.lists(
        st.tuples(st.integers(min_value=0, max_value=200_000), st.integers(1, 255)), max_size=8
    ),
)
def test_a_damaged_ledger_file_raises_only_our_errors(
    issued_ledger: Path, series_2020: Series, cut: int | None, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(issued_ledger.read_bytes())
    for position, mask in flips:
        data[position % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % len(data)]
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "ledger.sqlite3"
        copy.write_bytes(bytes(data))
        failure = _use_damaged(copy, series_2020)  # raises if not one of ours
        if isinstance(failure, DataFileError):
            assert failure.path == copy


def _use_damaged(path: Path, series: Series) -> BalintCmeError | None:
    try:
        with Ledger.open(path, create=False, timeout_seconds=1) as ledger:
            ledger.check_chain()
            ledger.status("BC-2026-000001")
            ledger.attendance_for("p01")
            ledger.certificates()
            ledger.consenting()
            ledger.audit_events()
            issue(ledger, series, "p01", name="Ana M. Ruiz")
    except BalintCmeError as err:  # anything else fails the test
        return err
    return None
