"""The command end to end on hostile files: whatever the bytes of a report, series file, key
file, ledger or PDF, balint-cme answers with an exit code and, for a bad file, exactly one
line on stderr naming it: never a traceback. A failed certify also leaves the ledger as it was.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.command_helpers import (
    REPORTS_2020,
    SERIES_2020,
    assert_one_line_error,
    isolate,
    ledger_state,
    run,
    tree,
)
from tests.conftest import ROOT
from tests.strategies import mutate_bytes

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

FIXTURES = ROOT / "tests" / "fixtures" / "reports"
FIXTURE_SERIES = FIXTURES / "series-reports.toml"
FIXTURE_REPORTS = sorted(p for p in FIXTURES.glob("*") if p.suffix in {".csv", ".json"})
_REPORT_BYTES = [path.read_bytes() for path in [*FIXTURE_REPORTS, *REPORTS_2020]]
_SERIES_BYTES = [SERIES_2020.read_bytes(), FIXTURE_SERIES.read_bytes()]

# capsys, tmp_path and monkeypatch are per test, not per example: each example resets what it
# reads (capsys.readouterr()) and overwrites the one file it writes.
_PER_TEST_FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def _mutate(data: st.DataObject, raw: bytes) -> bytes:
    """A few changes only, so that some mutated files are still usable (exit 0)."""
    return mutate_bytes(data, raw, most=3, widest=40)


def _answered(
    capsys: pytest.CaptureFixture[str],
    path: Path,
    *argv: str | Path,
    must_fail: bool = False,
    count: bool = True,
    failing: int = 1,
) -> None:
    """Run; exit 0, or exit `failing` with one stderr line naming `path`. Anything raised fails.

    With `count`, hypothesis statistics show how many examples ended in each exit code.
    """
    capsys.readouterr()
    code, out, err = run(capsys, *argv)
    if count:
        event(f"exit {code}")
    assert code in ((failing,) if must_fail else (0, failing)), err
    if code == failing:
        assert_one_line_error(err, naming=path)
        assert out == ""
    else:
        assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# Reports


@_PER_TEST_FIXTURES
@given(data=st.binary(max_size=3000), name=st.sampled_from(["r.csv", "r.json", "r.txt"]))
def test_any_bytes_as_a_report_exit_1_with_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, name: str
) -> None:
    report = tmp_path / name
    report.write_bytes(data)
    _answered(capsys, report, "credits", SERIES_2020, "--attendance", report, must_fail=True)


@_PER_TEST_FIXTURES
@given(data=st.data())
def test_a_mutated_report_is_read_or_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    raw = data.draw(st.sampled_from(_REPORT_BYTES), label="report")
    series = SERIES_2020 if raw in _REPORT_BYTES[-5:] else FIXTURE_SERIES
    report = tmp_path / "mutated.csv"
    report.write_bytes(_mutate(data, raw))
    _answered(capsys, report, "credits", series, "--attendance", report, "--json")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32", "shift_jis", "cp1252"])
def test_a_report_in_another_encoding_is_read_or_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    report = tmp_path / f"{encoding}.csv"
    text = REPORTS_2020[0].read_bytes().decode("utf-8-sig")
    report.write_bytes(text.encode(encoding, errors="replace"))
    _answered(capsys, report, "credits", SERIES_2020, "--attendance", report, count=False)


# ---------------------------------------------------------------------------------------------
# Series files


@_PER_TEST_FIXTURES
@given(
    data=st.binary(max_size=3000),
    name=st.sampled_from(["s.toml", "s.json"]),
    command=st.sampled_from(["schedule", "credits"]),
)
def test_any_bytes_as_a_series_file_exit_1_with_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, name: str, command: str
) -> None:
    series = tmp_path / name
    series.write_bytes(data)
    _answered(capsys, series, command, series, must_fail=True)


@_PER_TEST_FIXTURES
@given(data=st.data())
def test_a_mutated_series_file_is_used_or_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    series = tmp_path / "mutated.toml"
    original = data.draw(st.sampled_from(_SERIES_BYTES), label="series")
    series.write_bytes(_mutate(data, original))
    if original == _SERIES_BYTES[0]:  # the 2020 series, whose reports we have
        _answered(capsys, series, "credits", series, "--attendance", *REPORTS_2020)
    else:
        _answered(capsys, series, "schedule", series)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep.json", "[" * 100_000),
        ("deep.toml", "x = " + "[" * 100_000),
        ("tables.toml", "x = " + "{a = " * 5000 + "1" + "}" * 5000),
        ("huge.toml", 'id = "' + "x" * 4_000_000 + '"\n'),
        ("utf16.toml", SERIES_2020.read_text(encoding="utf-8").encode("utf-16").decode("latin-1")),
    ],
)
def test_deep_huge_or_misencoded_series_files_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str
) -> None:
    series = tmp_path / name
    series.write_bytes(content.encode("latin-1"))
    _answered(capsys, series, "schedule", series, must_fail=True, count=False)


# ---------------------------------------------------------------------------------------------
# certify: the same answers, and the ledger and output folder untouched


@pytest.fixture
def certified_workspace(workspace: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, _, err = run(
        capsys,
        "certify",
        SERIES_2020,
        "--attendance",
        *REPORTS_2020,
        "--out",
        workspace / "issued",
        "--issued-on",
        "2021-01-20",
        "--quiet",
    )
    assert code == 0, err
    return workspace


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_certify_with_a_broken_report_or_series_changes_nothing(
    certified_workspace: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    ledger = certified_workspace / "ledger.sqlite3"
    before = (ledger_state(ledger), tree(certified_workspace / "issued"))
    broken_series = data.draw(st.booleans(), label="break the series file")
    target = certified_workspace / ("broken.toml" if broken_series else "broken.csv")
    original = SERIES_2020 if broken_series else REPORTS_2020[0]
    target.write_bytes(data.draw(st.binary(max_size=2000), label="bytes") or b"\x00")
    series = target if broken_series else SERIES_2020
    reports = REPORTS_2020 if broken_series else [target, *REPORTS_2020[1:]]
    out = certified_workspace / "new-out"
    _answered(
        capsys,
        target,
        "certify",
        series,
        "--attendance",
        *reports,
        "--out",
        out,
        must_fail=True,
    )
    assert original.exists()
    assert not out.exists()
    assert (ledger_state(ledger), tree(certified_workspace / "issued")) == before


# ---------------------------------------------------------------------------------------------
# Key files, ledgers and PDFs


@_PER_TEST_FIXTURES
@given(data=st.binary(max_size=5000), command=st.sampled_from(["certify", "verify"]))
def test_any_bytes_as_a_key_file_exit_1_with_one_line_naming_it(
    workspace: Path, capsys: pytest.CaptureFixture[str], data: bytes, command: str
) -> None:
    key = workspace / "random.key"
    key.write_bytes(data)
    os.chmod(key, 0o600)
    if command == "certify":
        argv: list[str | Path] = ["certify", SERIES_2020, "--attendance", *REPORTS_2020]
        argv += ["--out", workspace / "out", "--key-file", key]
    else:
        argv = ["verify", "test.AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", "--key-file", key]
    # verify cannot check without its key: exit 3 ("could not check"), not 1 ("not valid").
    _answered(capsys, key, *argv, must_fail=True, failing=1 if command == "certify" else 3)
    assert not (workspace / "out").exists()
    assert not (workspace / "ledger.sqlite3").exists()


@_PER_TEST_FIXTURES
@given(data=st.binary(max_size=3000))
def test_any_bytes_as_a_ledger_exit_1_with_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    ledger.write_bytes(data)
    for argv in (["ledger", "check"], ["attendance", "--person", "p01"]):
        _answered(capsys, ledger, *argv, "--ledger", ledger, must_fail=True)


@_PER_TEST_FIXTURES
@given(data=st.binary(max_size=3000))
def test_any_bytes_given_to_verify_print_unknown_and_exit_1(
    workspace: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    pdf = workspace / "certificate.pdf"
    pdf.write_bytes(data)
    capsys.readouterr()
    code, out, err = run(capsys, "verify", pdf)
    assert code == 1
    assert out.startswith("unknown")
    assert err == ""  # the reason is the result, on stdout; no library chatter on stderr


# ---------------------------------------------------------------------------------------------
# Output paths that cannot be written


@pytest.mark.parametrize("command", ["demo", "certify", "schedule --ics", "pars --out"])
def test_an_output_path_blocked_by_a_file_is_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    blocker = workspace / "a-file"
    blocker.write_text("keep me\n", encoding="utf-8")
    target = blocker / "below"
    argv: dict[str, list[str | Path]] = {
        "demo": ["demo", "--out", target],
        "certify": ["certify", SERIES_2020, "--attendance", *REPORTS_2020, "--out", target],
        "schedule --ics": ["schedule", SERIES_2020, "--ics", target / "x.ics"],
        "pars --out": ["pars", SERIES_2020, "--out", target / "pars.txt"],
    }
    if command == "pars --out":
        _answered(capsys, target, *argv["certify"][:-1], workspace / "out", count=False)
    capsys.readouterr()
    code, _, err = run(capsys, *argv[command])  # (schedule prints the dates before it writes)
    assert code == 1
    assert_one_line_error(err, naming=blocker)
    assert blocker.read_text(encoding="utf-8") == "keep me\n"
