"""Crash safety: a batch killed with SIGKILL at random moments leaves a consistent ledger, and
re-running completes it without duplicates."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from balint_cme import LedgerError
from balint_cme.ledger import Ledger
from balint_cme.storage import write_atomically
from tests.ledger.ledger_driver import build_series

DRIVER = Path(__file__).with_name("ledger_driver.py")
PEOPLE = 40


def run_driver(ledger: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(DRIVER), str(ledger), str(out), "--people", f"0:{PEOPLE}", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )


def kill_mid_batch(process: subprocess.Popen[str], rng: random.Random) -> int:
    """SIGKILL after a random number of finished people plus a random pause; lines seen."""
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    wanted, seen = rng.randrange(PEOPLE), 0
    while seen < wanted and process.stdout.readline():
        seen += 1
    time.sleep(rng.uniform(0, 0.004))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    return seen


def assert_consistent(ledger_path: Path, out: Path, *, claims_version: int | None = None) -> None:
    with Ledger.open(ledger_path, create=False) as ledger:
        assert ledger.check_chain().is_intact
        assert ledger.check_files(out) == ()  # every certificate recorded as issued has its file
        certificates = ledger.certificates()
        assert len(ledger.pending()) <= 1  # at most the one in flight when killed
    holders: dict[str, set[str]] = {}
    for certificate in certificates:
        holders.setdefault(certificate.participant_id, set()).add(certificate.number)
    assert all(len(numbers) == 1 for numbers in holders.values())
    seqs = sorted(int(c.number.rsplit("-", 1)[1]) for c in certificates if c.version == 1)
    assert seqs == list(range(1, len(seqs) + 1))  # no number lost or duplicated
    for number in {c.number for c in certificates}:
        states = [c.state for c in certificates if c.number == number]
        assert states.count("issued") <= 1
    if claims_version is not None:
        issued = [c for c in certificates if c.state == "issued"]
        assert len(issued) == PEOPLE
        suffix = f"(v{claims_version})"
        assert all(c.claims["name"].endswith(suffix) == (claims_version > 1) for c in issued)


@pytest.mark.slow
def test_batches_killed_at_random_moments_leave_a_consistent_ledger(tmp_path: Path) -> None:
    rng = random.Random(20260115)
    ledger, out = tmp_path / "ledger.sqlite3", tmp_path / "out"
    out.mkdir()
    killed_mid_batch = 0
    for claims in (1, 2):
        for _ in range(6):
            seen = kill_mid_batch(run_driver(ledger, out, "--claims", str(claims)), rng)
            killed_mid_batch += 0 < seen < PEOPLE
            assert_consistent(ledger, out)
        finished = run_driver(ledger, out, "--claims", str(claims))
        finished.communicate(timeout=60)
        assert finished.returncode == 0
        assert_consistent(ledger, out, claims_version=claims)
    assert killed_mid_batch >= 3  # the kills really landed inside batches

    with Ledger.open(ledger, create=False) as opened:
        head = opened.head()
    again = run_driver(ledger, out, "--claims", "2")
    output, _ = again.communicate(timeout=60)
    assert again.returncode == 0
    outcomes = [line.split()[-1] for line in output.splitlines() if line.startswith("done")]
    assert outcomes == ["unchanged"] * PEOPLE
    with Ledger.open(ledger, create=False) as opened:
        assert opened.head() == head  # a re-run with unchanged inputs writes nothing
        assert {c.version for c in opened.certificates(state="issued")} == {2}


def test_an_interrupted_issue_is_completed_by_the_next_run(tmp_path: Path) -> None:
    """In-process version of the above: the write between reserve and confirm fails."""
    series = build_series("s", range(3))
    out = tmp_path / "out"
    out.mkdir()
    clock = lambda: datetime(2026, 1, 15, tzinfo=UTC)  # noqa: E731

    def run(fail_on: str | None) -> list[str]:
        outcomes: list[str] = []
        with Ledger.open(tmp_path / "ledger.sqlite3", clock=clock) as ledger:
            ledger.record_series(series, content=b"s", file_name="s.json", actor="t")
            for person in series.participants:
                reservation = ledger.reserve(
                    series_id="s",
                    participant_id=person.id,
                    kind="credit",
                    credits=Decimal(1),
                    session_dates=[date(2025, 1, 8)],
                    claims={"name": person.name},
                    issued_on=date(2026, 1, 15),
                    actor="t",
                )
                outcomes.append(reservation.outcome)
                if not reservation.needs_file:
                    continue
                if person.id == fail_on:
                    raise OSError("disk full")
                number = reservation.certificate.number
                write_atomically(out / f"{number}.pdf", number.encode())
                ledger.confirm(
                    number,
                    1,
                    pdf_sha256=hashlib.sha256(number.encode()).hexdigest(),
                    file_name=f"{number}.pdf",
                    verification_code="c",
                    actor="t",
                )
        return outcomes

    with pytest.raises(OSError, match="disk full"):
        run(fail_on="p0001")
    assert run(fail_on=None) == ["unchanged", "resumed", "new"]
    with Ledger.open(tmp_path / "ledger.sqlite3", create=False) as ledger:
        assert ledger.pending() == ()
        assert [c.number for c in ledger.certificates()] == [
            "BC-2026-000001",
            "BC-2026-000002",
            "BC-2026-000003",
        ]
        assert ledger.check_files(out) == ()


def test_confirm_of_a_revoked_reservation_is_refused(tmp_path: Path) -> None:
    series = build_series("s", range(1))
    with Ledger.open(
        tmp_path / "l.sqlite3", clock=lambda: datetime(2026, 1, 1, tzinfo=UTC)
    ) as ledger:
        ledger.record_series(series, content=b"s", file_name="s.json", actor="t")
        reservation = ledger.reserve(
            series_id="s",
            participant_id="p0000",
            kind="credit",
            credits=Decimal(1),
            session_dates=[date(2025, 1, 8)],
            claims={},
            issued_on=date(2026, 1, 1),
            actor="t",
        )
        ledger.revoke(reservation.certificate.number, reason="entered by mistake", actor="t")
        with pytest.raises(LedgerError, match="revoked"):
            ledger.confirm(
                reservation.certificate.number,
                1,
                pdf_sha256="0" * 64,
                file_name="x.pdf",
                verification_code="c",
                actor="t",
            )
