"""The runnable examples work as written and show what the README promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from balint_cme.io.series_file import load_series
from tests.conftest import EXAMPLES, ROOT


def test_quickstart_prints_partial_non_physician_and_facilitator() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    lines = result.stdout.splitlines()
    ana = next(line for line in lines if line.startswith("Ana Ruiz"))
    assert "1.75 credit, 1.75 h: 52.00 min 0.75 | 60.00 min 1.00" in ana
    grace = next(line for line in lines if line.startswith("Grace Lindqvist"))
    assert "0.00 credit, 1.75 h: 60.00 min 0.00 | 45.00 min 0.00" in grace
    assert "not a physician: NP" in result.stdout
    frank = lines.index(next(line for line in lines if line.startswith("Rochelle Frank")))
    assert lines[frank + 1].count("facilitated this session") == 5


def test_readme_quickstart_is_the_example_file() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert block == (EXAMPLES / "quickstart.py").read_text(encoding="utf-8")


def test_the_issue_s_exact_series_file_loads() -> None:
    series = load_series(ROOT / "tests" / "fixtures" / "series-issue2.toml")
    assert series.id == "ssvms-balint-2020"
    assert [p.id for p in series.participants] == ["p01", "p02", "p03"]


def test_both_example_series_load() -> None:
    for path in sorted(Path(EXAMPLES).glob("*.toml")):
        assert load_series(path).id.startswith("ssvms-balint-")


def test_example_series_and_reports_are_the_demo_s(tmp_path: Path) -> None:
    from balint_cme.demo import DEMO_SERIES_TOML, write_demo_inputs
    from balint_cme.io.series_file import parse_series

    assert (EXAMPLES / "ssvms-balint-2020.toml").read_text(encoding="utf-8") == DEMO_SERIES_TOML
    series = parse_series(DEMO_SERIES_TOML.encode(), Path("demo.toml"))
    inputs = write_demo_inputs(tmp_path, series)
    for path, _ in inputs.reports:
        assert (EXAMPLES / "reports" / path.name).read_bytes() == path.read_bytes()
