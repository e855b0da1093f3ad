"""Concurrency: two processes certifying into one ledger at once never lose or duplicate a
certificate number."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from balint_cme.ledger import Ledger

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("ledger_driver.py")


def start(ledger: Path, out: Path, go: Path, *extra: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(DRIVER), str(ledger), str(out), "--go", str(go), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def finish(process: subprocess.Popen[str]) -> list[tuple[str, str, str]]:
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    return [
        (fields[1], fields[2], fields[4])
        for fields in (line.split() for line in output.splitlines())
        if fields[0] == "done"
    ]


@pytest.mark.parametrize(
    ("first", "second", "people"),
    [
        # The same 60 people from both ends: every reservation is contested.
        (("--people", "0:60"), ("--people", "0:60", "--reverse"), 60),
        # Two different series at once: the global sequence is contested.
        (("--series", "a", "--people", "0:40"), ("--series", "b", "--people", "40:80"), 80),
    ],
)
def test_two_processes_never_lose_or_duplicate_a_number(
    tmp_path: Path, first: tuple[str, ...], second: tuple[str, ...], people: int
) -> None:
    ledger, out, go = tmp_path / "ledger.sqlite3", tmp_path / "out", tmp_path / "go"
    out.mkdir()
    Ledger.open(ledger).close()  # both processes then open an existing file
    processes = [start(ledger, out, go, *first), start(ledger, out, go, *second)]
    go.touch()
    results = [finish(process) for process in processes]

    with Ledger.open(ledger, create=False) as opened:
        certificates = opened.certificates()
        assert opened.pending() == ()
        assert opened.check_chain().is_intact
        assert opened.check_files(out) == ()
    assert len(certificates) == people
    assert all(c.state == "issued" and c.version == 1 for c in certificates)
    seqs = sorted(int(c.number.rsplit("-", 1)[1]) for c in certificates)
    assert seqs == list(range(1, people + 1))
    number_of = {(c.series_id, c.participant_id): c.number for c in certificates}
    assert len(set(number_of.values())) == people
    new = [pid for result in results for pid, _, outcome in result if outcome == "new"]
    assert len(new) == people  # each person's number was allocated exactly once
    for result in results:  # and both processes saw the same number for the same person
        for pid, number, _ in result:
            assert number in {n for (_, p), n in number_of.items() if p == pid}
