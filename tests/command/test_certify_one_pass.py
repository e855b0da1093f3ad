"""certify does each certificate's work once, and its durable steps once per batch.

One pass: the series file is read once, each certificate's content is built once, sealed once
(after its number is reserved) and its fonts are checked once; a plan made before the key and
the ledger exist (as the command makes it) is reused, not redone. Batched durability: the
ledger transactions and disk syncs of a run do not grow with the number of certificates
(reserve_many is one transaction, every reservation or none).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from balint_cme.attendance import AttendanceRegister
from balint_cme.certificates import content as content_module
from balint_cme.certificates import pdf as pdf_module
from balint_cme.certificates.content import (
    UNSEALED,
    build_certificate,
    draft_certificate,
    eligible_awards,
    seal_certificate,
)
from balint_cme.certificates.keys import SigningKey, create_key
from balint_cme.certificates.verification import seal_claims, verify_code
from balint_cme.credit import award_series
from balint_cme.errors import CertificateError, LedgerError
from balint_cme.io.reports import read_reports
from balint_cme.io.series_file import load_series, read_series_file
from balint_cme.ledger import Ledger, ReservationRequest
from balint_cme.model import Series
from balint_cme.usecases import certify as certify_module
from balint_cme.usecases import certify_plan, publishing
from balint_cme.usecases.certify import certify, plan_certify
from tests.command_helpers import run, write_roster
from tests.conftest import EXAMPLES, ROOT, attend

ACTOR = "Test Coordinator"
ISSUED_ON = date(2021, 1, 20)


@pytest.fixture(autouse=True)
def _font_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BALINT_CME_CACHE_DIR", str(ROOT / ".venv" / "balint-cme-cache"))


_WRITE: Callable[..., AbstractContextManager[Any]] = Ledger._write


class _Counter:
    """Wraps a function and counts its calls."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.function(*args, **kwargs)


def _run(tmp_path: Path, people: int, **options: Any) -> Path:
    series, sheet = write_roster(tmp_path / "in", [f"Person {i}" for i in range(people)])
    key = create_key(tmp_path / "signing.key", key_id="once")
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        result = certify(
            series,
            [(sheet, None)],
            tmp_path / "out",
            key=key,
            ledger=ledger,
            issued_on=ISSUED_ON,
            actor=ACTOR,
            workers=1,
            **options,
        )
    assert len(result.issued) == people
    return series


def test_each_certificate_is_built_sealed_and_font_checked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seals = _Counter(seal_claims)
    font_checks = _Counter(pdf_module.check_renderable)
    reads = _Counter(read_series_file)
    monkeypatch.setattr(content_module, "seal_claims", seals)
    monkeypatch.setattr(certify_plan, "check_renderable", font_checks)
    monkeypatch.setattr("balint_cme.certificates.batch.check_renderable", font_checks)
    monkeypatch.setattr(certify_module, "read_series_file", reads)
    _run(tmp_path, 7)
    assert (seals.calls, font_checks.calls, reads.calls) == (7, 7, 1)


def test_the_durable_steps_do_not_grow_with_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ledger transactions and fsyncs of a run are the same for 2 certificates and for 9."""
    counts = []
    for people in (2, 9):
        transactions = 0
        fsyncs = _Counter(os.fsync)

        def counted(self: Ledger, actor: str) -> AbstractContextManager[Any]:
            nonlocal transactions
            transactions += 1
            return _WRITE(self, actor)

        with monkeypatch.context() as patch:
            patch.setattr(Ledger, "_write", counted)
            patch.setattr(os, "fsync", fsyncs)
            _run(tmp_path / str(people), people)
        counts.append((transactions, fsyncs.calls))
    assert counts[0][0] == counts[1][0]
    transactions, _ = counts[1]
    assert transactions <= 4  # series, attendance, every reservation, every confirmation
    if sys.platform.startswith("linux"):  # elsewhere each file is fsynced (sync_files)
        assert counts[0][1] == counts[1][1]


def test_a_batch_is_synced_to_disk_before_the_ledger_confirms_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files and the folder are synced, then confirmed: never confirmed before the sync."""
    order: list[str] = []
    sync_files, sync_folder = publishing.sync_files, publishing.sync_folder
    confirm_many = Ledger.confirm_many

    def files(paths: Any, folder: Path) -> None:
        order.append(f"files:{len(paths)}")
        sync_files(paths, folder)

    def folder(path: Path) -> None:
        order.append("folder")
        sync_folder(path)

    def confirm(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        order.append("confirm")
        return confirm_many(self, *args, **kwargs)

    monkeypatch.setattr(certify_module, "sync_files", files)
    monkeypatch.setattr(certify_module, "sync_folder", folder)
    monkeypatch.setattr(Ledger, "confirm_many", confirm)
    _run(tmp_path, 5)
    assert order == ["files:5", "folder", "confirm"]


def test_sync_files_makes_every_file_durable_without_syncfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where syncfs is missing, each file is fsynced (the same promise, file by file)."""
    paths = []
    for index in range(3):
        path = tmp_path / f"{index}.pdf"
        path.write_bytes(b"%PDF-")
        paths.append(path)
    fsyncs = _Counter(os.fsync)
    monkeypatch.setattr(os, "fsync", fsyncs)
    monkeypatch.setattr(publishing, "_syncfs", lambda folder: False)
    publishing.sync_files(paths, tmp_path)
    assert fsyncs.calls == 3


def test_a_plan_made_before_the_ledger_is_reused_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    series_file, sheet = write_roster(tmp_path / "in", [f"Person {i}" for i in range(4)])
    series, content = read_series_file(series_file)
    reading = read_reports([(sheet, None)], series)
    plan = plan_certify(series, reading, ledger=None, issued_on=ISSUED_ON, content=content)
    font_checks = _Counter(pdf_module.check_renderable)
    reads = _Counter(read_series_file)
    monkeypatch.setattr(certify_plan, "check_renderable", font_checks)
    monkeypatch.setattr("balint_cme.certificates.batch.check_renderable", font_checks)
    monkeypatch.setattr(certify_module, "read_series_file", reads)
    key = create_key(tmp_path / "signing.key", key_id="plan")
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        result = certify(
            series_file,
            [(sheet, None)],
            tmp_path / "out",
            key=key,
            ledger=ledger,
            issued_on=ISSUED_ON,
            actor=ACTOR,
            workers=1,
            plan=plan,
        )
    assert len(result.issued) == 4
    assert (font_checks.calls, reads.calls) == (0, 0)


def test_a_plan_is_made_again_when_the_ledger_changed_since(tmp_path: Path) -> None:
    """A plan counted no attendance on record; by the time certify runs, the ledger holds a
    session the reports do not cover: the certificates count it, as without a plan."""
    series_file, sheet = write_roster(tmp_path / "in", ["Ana Example", "Ben Example"])
    series, content = read_series_file(series_file)
    key = create_key(tmp_path / "signing.key", key_id="replan")
    # First run: session 1 from the sheet goes on record.
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        first = certify(
            series_file,
            [(sheet, None)],
            tmp_path / "out",
            key=key,
            ledger=ledger,
            issued_on=ISSUED_ON,
            actor=ACTOR,
            workers=1,
        )
    # A plan made as if there were no ledger, without the reports: nothing to certify.
    empty = read_reports([], series)
    stale = plan_certify(series, empty, ledger=None, issued_on=ISSUED_ON, content=content)
    assert stale.eligible == ()
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        again = certify(
            series_file,
            [],
            tmp_path / "out",
            key=key,
            ledger=ledger,
            issued_on=ISSUED_ON,
            actor=ACTOR,
            workers=1,
            plan=stale,
        )
    assert [(c.number, c.outcome) for c in again.issued] == [
        (c.number, "unchanged") for c in first.issued
    ]


# ---------------------------------------------------------------------------------------------
# The content built once, sealed once


def _awards(series: Series) -> Iterator[Any]:
    register = AttendanceRegister(
        [
            attend(series, "p01", 1, 0, 90),
            attend(series, "p02", 1, 0, 90),
        ]
    )
    return iter(eligible_awards(series, award_series(series, register)))


def test_a_sealed_draft_is_the_certificate_build_certificate_gives(series_2020: Series) -> None:
    key = SigningKey.generate()
    template = "https://cme.example.org/verify?code={code}&n={number}"
    for award in _awards(series_2020):
        draft = draft_certificate(
            series_2020, award, issued_on=ISSUED_ON, verify_url_template=template
        )
        assert draft.seal == UNSEALED
        sealed = seal_certificate(
            draft,
            number="BC-2021-000007",
            version=2,
            issued_on=date(2021, 2, 1),
            key=key,
            verify_url_template=template,
        )
        built = build_certificate(
            series_2020,
            award,
            number="BC-2021-000007",
            version=2,
            issued_on=date(2021, 2, 1),
            key=key,
            verify_url_template=template,
        )
        assert sealed == built
        assert verify_code(sealed.verification_code, sealed.claims, key).is_valid


def test_sealing_refuses_an_issue_date_before_the_sessions(series_2020: Series) -> None:
    award = next(_awards(series_2020))
    draft = draft_certificate(series_2020, award, issued_on=ISSUED_ON)
    with pytest.raises(CertificateError, match="before the last session attended"):
        seal_certificate(
            draft,
            number="BC-2020-000001",
            version=1,
            issued_on=date(2019, 1, 1),
            key=SigningKey.generate(),
        )
    with pytest.raises(CertificateError, match="cannot build certificate"):
        seal_certificate(
            draft, number="X" * 65, version=1, issued_on=ISSUED_ON, key=SigningKey.generate()
        )


# ---------------------------------------------------------------------------------------------
# Ledger.reserve_many


def _request(series: Series, participant_id: str, name: str = "Ana Ruiz") -> ReservationRequest:
    return ReservationRequest(
        series_id=series.id,
        participant_id=participant_id,
        kind="credit",
        credits=Decimal("1.50"),
        session_dates=(date(2020, 9, 9),),
        claims={"name": name},
        issued_on=ISSUED_ON,
    )


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[Ledger, Series]]:
    path = EXAMPLES / "ssvms-balint-2020.toml"
    series = load_series(path)
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        ledger.record_series(series, content=path.read_bytes(), file_name=path.name, actor=ACTOR)
        yield ledger, series


def test_reserve_many_answers_as_reserve_does_one_by_one(
    recorded: tuple[Ledger, Series], tmp_path: Path
) -> None:
    ledger, series = recorded
    batch = [_request(series, "p01"), _request(series, "p02"), _request(series, "p03")]
    answers = ledger.reserve_many(batch, actor=ACTOR)
    assert [a.outcome for a in answers] == ["new", "new", "new"]
    assert [a.certificate.number for a in answers] == [
        "BC-2021-000001",
        "BC-2021-000002",
        "BC-2021-000003",
    ]
    # The same batch again: resumed; with p02 renamed: that one is updated, the others resumed.
    again = ledger.reserve_many(
        [batch[0], _request(series, "p02", "Ben Renamed"), batch[2]], actor=ACTOR
    )
    assert [a.outcome for a in again] == ["resumed", "resumed", "resumed"]
    assert again[1].changed == ("name",)
    with Ledger.open(tmp_path / "one-by-one.sqlite3") as other:
        path = EXAMPLES / "ssvms-balint-2020.toml"
        other.record_series(series, content=path.read_bytes(), file_name=path.name, actor=ACTOR)
        singles = [other.reserve(**item._asdict(), actor=ACTOR) for item in batch]
    assert [(a.outcome, a.certificate.number) for a in singles] == [
        (a.outcome, a.certificate.number) for a in answers
    ]


def test_reserve_many_reserves_every_number_or_none(recorded: tuple[Ledger, Series]) -> None:
    ledger, series = recorded
    with pytest.raises(LedgerError, match="not enrolled"):
        ledger.reserve_many(
            [_request(series, "p01"), _request(series, "nobody"), _request(series, "p02")],
            actor=ACTOR,
        )
    assert ledger.pending() == ()
    with pytest.raises(ValueError, match=r"multiple of 0\.25"):
        ledger.reserve_many(
            [_request(series, "p01"), _request(series, "p02")._replace(credits=Decimal("0.3"))],
            actor=ACTOR,
        )
    assert ledger.pending() == ()
    answers = ledger.reserve_many([_request(series, "p02"), _request(series, "p01")], actor=ACTOR)
    assert [a.certificate.number for a in answers] == ["BC-2021-000001", "BC-2021-000002"]


@pytest.mark.parametrize("step", ["sync_files", "sync_folder"])
def test_a_sync_that_fails_publishes_nothing_and_confirms_nothing(
    step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(certify_module, step, broken)
    with pytest.raises(CertificateError, match="Input/output error"):
        _run(tmp_path, 3)
    assert not (tmp_path / "out").exists()  # made by this run, so removed with its files
    with Ledger.open(tmp_path / "ledger.sqlite3", create=False) as ledger:
        assert ledger.certificates(state="issued") == ()
        assert len(ledger.pending()) == 3  # reserved: the next run completes them
    monkeypatch.undo()
    monkeypatch.setenv("BALINT_CME_CACHE_DIR", str(ROOT / ".venv" / "balint-cme-cache"))
    series, sheet = tmp_path / "in" / "series.toml", tmp_path / "in" / "sign-in.csv"
    key = create_key(tmp_path / "second.key", key_id="again")
    with Ledger.open(tmp_path / "ledger.sqlite3", create=False) as ledger:
        result = certify(
            series,
            [(sheet, None)],
            tmp_path / "out",
            key=key,
            ledger=ledger,
            issued_on=ISSUED_ON,
            actor=ACTOR,
            workers=1,
        )
        assert [c.outcome for c in result.issued] == ["resumed"] * 3
        assert ledger.pending() == ()
        assert ledger.check_files(tmp_path / "out") == ()


def test_the_command_reads_the_series_and_checks_each_font_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`balint-cme certify` checks everything before the key and the ledger exist, and that
    check is the plan certify uses: one read of the series file, one font check each."""
    series, sheet = write_roster(tmp_path / "in", [f"Person {i}" for i in range(5)])
    reads = _Counter(read_series_file)
    font_checks = _Counter(pdf_module.check_renderable)
    monkeypatch.setattr("balint_cme.commands.certify.read_series_file", reads)
    monkeypatch.setattr(certify_module, "read_series_file", reads)
    monkeypatch.setattr(certify_plan, "check_renderable", font_checks)
    monkeypatch.setattr("balint_cme.certificates.batch.check_renderable", font_checks)
    monkeypatch.setenv("BALINT_CME_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("BALINT_CME_KEY_FILE", str(tmp_path / "keys" / "signing.key"))
    code, _, err = run(
        capsys,
        "certify",
        series,
        "--attendance",
        sheet,
        "--out",
        tmp_path / "out",
        "--issued-on",
        "2021-01-20",
        "--workers",
        "1",
        "--quiet",
    )
    assert code == 0, err
    assert len(list((tmp_path / "out").glob("*.pdf"))) == 5
    assert (reads.calls, font_checks.calls) == (1, 5)
