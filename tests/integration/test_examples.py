"""The runnable examples work as written and show what the README promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from balint_cme.io.series_file import load_series
from tests.conftest import EXAMPLES, ROOT


def test_quickstart_prints_partial_non_physician_facilitator_and_refused_claim() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    ana = next(line for line in lines if line.startswith("Ana Ruiz"))
    assert "credit 1.75" in ana
    assert "52.00 min 0.75" in ana
    grace = next(line for line in lines if line.startswith("Grace Lindqvist"))
    assert "credit 0.00  hours 1.75" in grace
    assert "why: not a physician: NP" in result.stdout
    assert "facilitated this session" in result.stdout
    assert "claim refused: Ana Ruiz (p01) claims 5.00" in result.stdout
    assert "supports 1.75" in result.stdout


def test_the_issue_s_exact_series_file_loads() -> None:
    series = load_series(ROOT / "tests" / "fixtures" / "series-issue2.toml")
    assert series.id == "ssvms-balint-2020"
    assert [p.id for p in series.participants] == ["p01", "p02", "p03"]


def test_both_example_series_load() -> None:
    for path in sorted(Path(EXAMPLES).glob("*.toml")):
        assert load_series(path).id.startswith("ssvms-balint-")
