"""The real command, killed and raced: `python -m balint_cme certify` over a 60-person roster,
SIGKILLed at random moments (and while drawing), then run to completion; and two certify
processes writing into one ledger at once.

The ledger-level twins (test_ledger_crash.py, test_ledger_concurrency.py) drive the ledger
with a stand-in batch; these run the whole command: reports, rendering, staging, publishing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import pytest

from balint_cme.certificates.keys import create_key
from balint_cme.ledger import Ledger
from tests.command_helpers import write_roster
from tests.conftest import ROOT

PEOPLE = 60
STAGING = ".balint-cme-partial-"


def _environment(workspace: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BALINT_CME_LEDGER": str(workspace / "ledger.sqlite3"),
        "BALINT_CME_KEY_FILE": str(workspace / "keys" / "signing.key"),
        "BALINT_CME_CACHE_DIR": str(ROOT / ".venv" / "balint-cme-cache"),
    }


def _start(workspace: Path, series: Path, sheet: Path, out: Path) -> subprocess.Popen[bytes]:
    """certify as its own process group, so a kill takes its drawing workers too."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "balint_cme", "certify", str(series)),
            *("--attendance", str(sheet), "--out", str(out)),
            *("--issued-on", "2021-01-20", "--quiet", "--workers", "2"),
        ],
        env=_environment(workspace),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _finish(process: subprocess.Popen[bytes]) -> None:
    _, err = process.communicate(timeout=180)
    assert process.returncode == 0, err.decode()


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group leader's id names the group
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)


def _drawn(out: Path) -> int:
    return sum(1 for _ in out.glob(f"{STAGING}*/*.pdf")) if out.exists() else 0


def _kill_when(process: subprocess.Popen[bytes], moment: Callable[[], bool]) -> None:
    """SIGKILL the run as soon as `moment()` is true (or leave it if it ends first)."""
    while process.poll() is None and not moment():
        time.sleep(0.002)
    _kill(process)


def _past(deadline: float) -> bool:
    return time.monotonic() >= deadline


def _at_least(count: Callable[[], int], wanted: int) -> bool:
    return count() >= wanted


def _published(out: Path, version: int) -> int:
    """PDFs of `version` moved into the folder (published, perhaps not yet confirmed)."""
    if not out.exists():
        return 0
    return sum(1 for pdf in out.glob("*.pdf") if pdf.stem.endswith("-v2") == (version == 2))


def _ledger_made(workspace: Path) -> bool:
    """Whether the run got as far as making the ledger. A run killed before that (no file, or
    the empty file SQLite had not yet written to) left a consistent state: nothing at all."""
    path = workspace / "ledger.sqlite3"
    return path.exists() and path.stat().st_size > 0


def _ledger_counts(workspace: Path) -> tuple[int, int]:
    """(issued, pending) certificates."""
    if not _ledger_made(workspace):
        return 0, 0
    with Ledger.open(workspace / "ledger.sqlite3", create=False) as ledger:
        return len(ledger.certificates(state="issued")), len(ledger.pending())


def _assert_consistent(workspace: Path, out: Path) -> None:
    if not _ledger_made(workspace):  # killed before the ledger existed: nothing was issued
        assert not out.exists() or not [*out.glob("*.pdf"), *out.glob("manifest.json")]
        return
    with Ledger.open(workspace / "ledger.sqlite3", create=False) as ledger:
        assert ledger.check_chain().is_intact
        # Every certificate the ledger records as issued has its file, with the recorded hash.
        assert ledger.check_files(out) == ()
        certificates = ledger.certificates()
    numbers: dict[str, set[str]] = {}
    for certificate in certificates:
        numbers.setdefault(certificate.participant_id, set()).add(certificate.number)
    assert all(len(held) == 1 for held in numbers.values())  # one number per person
    owners = [next(iter(held)) for held in numbers.values()]
    assert len(set(owners)) == len(owners)  # no number shared
    for number in set(owners):
        states = [c.state for c in certificates if c.number == number]
        assert states.count("issued") <= 1
        assert states.count("pending") <= 1
    if out.exists():
        for pdf in out.glob("*.pdf"):  # published files are whole: never a partial PDF
            data = pdf.read_bytes()
            assert data.startswith(b"%PDF-"), pdf
            assert data.rstrip().endswith(b"%%EOF"), pdf
        manifest = out / "manifest.json"
        if manifest.exists():  # the last complete run's manifest still describes real files
            for item in json.loads(manifest.read_text(encoding="utf-8"))["certificates"]:
                data = (out / item["file"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == item["sha256"]


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


@pytest.mark.slow
def test_certify_killed_at_random_moments_leaves_a_consistent_ledger_and_folder(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261124)
    create_key(tmp_path / "keys" / "signing.key", key_id="crash")
    series, sheet = write_roster(tmp_path / "inputs", [f"Person {i}" for i in range(PEOPLE)])
    retitled = series.with_name("retitled.toml")  # a corrected title: every person a version 2
    retitled.write_text(
        series.read_text(encoding="utf-8").replace("2020 Balint Group", "Balint Group 2020"),
        encoding="utf-8",
    )
    out = tmp_path / "certificates"

    # How long one whole run takes here, measured on a throwaway ledger and folder.
    scratch = tmp_path / "scratch"
    create_key(scratch / "keys" / "signing.key", key_id="scratch")
    started = time.monotonic()
    _finish(_start(scratch, series, sheet, scratch / "out"))
    whole_run = time.monotonic() - started

    for phase, version in ((series, 1), (retitled, 2)):
        landed_mid_batch = 0
        attempt = 0
        # Four kills, then (on a machine so busy that none of them fell inside the batch)
        # more kills while drawing, up to ten in all: the test never depends on speed.
        while attempt < 4 or (landed_mid_batch == 0 and attempt < 10):
            process = _start(tmp_path, phase, sheet, out)
            moment: Callable[[], bool]
            count = rng.randrange(1, PEOPLE - 5)
            if attempt in (0, 3):  # at a random moment (perhaps before the ledger exists)
                moment = partial(_past, time.monotonic() + rng.uniform(0.2, 1.0) * whole_run)
            elif attempt == 2:  # once files are published, while the ledger confirms them
                moment = partial(_at_least, partial(_published, out, version), count)
            else:  # while the batch is being drawn
                moment = partial(_at_least, partial(_drawn, out), count)
            _kill_when(process, moment)
            _assert_consistent(tmp_path, out)
            issued, pending = _ledger_counts(tmp_path)
            landed_mid_batch += pending > 0 or 0 < issued < PEOPLE * version
            attempt += 1
        assert landed_mid_batch >= 1  # the kills really fell inside a batch
        _finish(_start(tmp_path, phase, sheet, out))
        _assert_consistent(tmp_path, out)
        with Ledger.open(tmp_path / "ledger.sqlite3", create=False) as ledger:
            assert ledger.pending() == ()
            current = ledger.certificates(state="issued")
        assert len(current) == PEOPLE
        assert {c.version for c in current} == {version}
        assert not list(out.glob(f"{STAGING}*"))  # killed runs' staging folders are gone
        listed = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["certificates"]
        assert sorted(item["number"] for item in listed) == sorted(c.number for c in current)

    # Numbers run from 1 without a gap: none lost to a kill, none given twice.
    seqs = sorted(int(c.number.rsplit("-", 1)[1]) for c in current)
    assert seqs == list(range(1, PEOPLE + 1))
    with Ledger.open(tmp_path / "ledger.sqlite3", create=False) as ledger:
        head = ledger.head()
    files = _snapshot(out)
    _finish(_start(tmp_path, retitled, sheet, out))
    with Ledger.open(tmp_path / "ledger.sqlite3", create=False) as ledger:
        assert ledger.head() == head  # the final re-run issued and recorded nothing
    assert _snapshot(out) == files


def _run_together(workspace: Path, runs: Sequence[tuple[Path, Path, Path]]) -> None:
    processes = [_start(workspace, series, sheet, out) for series, sheet, out in runs]
    for process in processes:
        _finish(process)


def _numbers_and_files(workspace: Path, outs: Sequence[Path], people: int) -> None:
    with Ledger.open(workspace / "ledger.sqlite3", create=False) as ledger:
        assert ledger.check_chain().is_intact
        assert ledger.pending() == ()
        certificates = ledger.certificates()
    assert len(certificates) == people
    assert all(c.state == "issued" and c.version == 1 for c in certificates)
    assert len({c.number for c in certificates}) == people  # no number twice
    assert len({(c.series_id, c.participant_id) for c in certificates}) == people
    seqs = sorted(int(c.number.rsplit("-", 1)[1]) for c in certificates)
    assert seqs == list(range(1, people + 1))  # none lost
    for certificate in certificates:  # its file, as recorded, in exactly one of the folders
        assert certificate.file_name is not None
        holders = [
            out
            for out in set(outs)
            if (out / certificate.file_name).is_file()
            and hashlib.sha256((out / certificate.file_name).read_bytes()).hexdigest()
            == certificate.pdf_sha256
        ]
        assert len(holders) == 1, certificate.number


@pytest.mark.slow
@pytest.mark.parametrize("same_series", [True, False], ids=["same-series", "two-series"])
def test_two_certify_processes_into_one_ledger_never_lose_or_duplicate_a_number(
    tmp_path: Path, same_series: bool
) -> None:
    create_key(tmp_path / "keys" / "signing.key", key_id="race")
    Ledger.open(tmp_path / "ledger.sqlite3").close()
    if same_series:  # the same 40 people, into the same folder
        series, sheet = write_roster(tmp_path / "a", [f"Person {i}" for i in range(40)])
        out = tmp_path / "certificates"
        _run_together(tmp_path, [(series, sheet, out), (series, sheet, out)])
        _numbers_and_files(tmp_path, [out], 40)
        assert not list(out.glob(f"{STAGING}*"))
    else:  # two series of 30 people each, into two folders
        runs = []
        for name, first in (("a", 1), ("b", 31)):
            series, sheet = write_roster(
                tmp_path / name,
                [f"Person {i}" for i in range(first, first + 30)],
                series_id=f"hardening-{name}",
                first=first,
            )
            runs.append((series, sheet, tmp_path / f"out-{name}"))
        _run_together(tmp_path, runs)
        _numbers_and_files(tmp_path, [out for _, _, out in runs], 60)
