"""Issue 14: a coordinator's runs — nothing created by a failed certify, batches that are not
blocked by one name, credits that say when no attendance was given."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balint_cme.cli import main
from balint_cme.commands.options import session_and_path as _session_and_path
from balint_cme.credit import award_series
from balint_cme.errors import DataFileError
from balint_cme.io.reports import read_reports
from balint_cme.io.series_file import load_series
from tests.conftest import EXAMPLES, ROOT

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

SERIES = EXAMPLES / "ssvms-balint-2020.toml"
REPORTS = [str(EXAMPLES / "reports" / f"zoom-session-{n}.csv") for n in range(1, 6)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A first run: neither a key nor a ledger exists yet."""
    monkeypatch.setenv("BALINT_CME_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("BALINT_CME_KEY_FILE", str(tmp_path / "keys" / "signing.key"))
    monkeypatch.setenv("BALINT_CME_CACHE_DIR", str(ROOT / ".venv" / "balint-cme-cache"))
    return tmp_path


def _cjk_series(folder: Path) -> Path:
    series = folder / "series.toml"
    series.write_text(
        SERIES.read_text(encoding="utf-8").replace('"Ana Ruiz"', '"王秀英"'), encoding="utf-8"
    )
    return series


def _nothing_created(folder: Path) -> None:
    assert not (folder / "keys" / "signing.key").exists()
    assert not (folder / "keys").exists()
    assert not (folder / "ledger.sqlite3").exists()
    assert not (folder / "out").exists()


# -- 14.3: a failed certify creates neither the key nor the ledger -------------------------------


def test_failed_certify_on_an_unrenderable_name_creates_no_key_and_no_ledger(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = _cjk_series(fresh)
    code, _, err = run(
        capsys, "certify", str(series), "--attendance", *REPORTS, "--out", str(fresh / "out")
    )
    assert code == 1
    assert "U+738B" in err
    assert "王秀英 (p01)" in err  # the person is named, not a draft number
    assert "--skip-unrenderable" in err
    _nothing_created(fresh)


def test_failed_certify_on_a_bad_report_creates_no_key_and_no_ledger(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = fresh / "zoom-junk.csv"
    junk.write_bytes(b"\x00\xff\xfe garbage\n" * 3)
    code, _, err = run(
        capsys, "certify", str(SERIES), "--attendance", str(junk), "--out", str(fresh / "out")
    )
    assert code == 1
    assert "zoom-junk.csv" in err
    _nothing_created(fresh)


def test_failed_certify_on_a_bad_layout_creates_no_key_and_no_ledger(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = fresh / "layout.toml"
    layout.write_text("page_size = 12\n", encoding="utf-8")
    code, _, _ = run(
        capsys,
        "certify",
        str(SERIES),
        "--attendance",
        *REPORTS,
        "--out",
        str(fresh / "out"),
        "--layout",
        str(layout),
    )
    assert code == 1
    _nothing_created(fresh)


def test_successful_first_certify_creates_key_and_ledger(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "certify", str(SERIES), "--attendance", *REPORTS, "--out", str(fresh / "out")
    )
    assert code == 0, err
    assert (fresh / "keys" / "signing.key").exists()
    assert (fresh / "ledger.sqlite3").exists()


# -- 14.2: --skip-unrenderable certifies the others ----------------------------------------------


def test_skip_unrenderable_certifies_the_others_and_lists_who_was_left_out(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = _cjk_series(fresh)
    out_dir = fresh / "out"
    code, out, err = run(
        capsys,
        "certify",
        str(series),
        "--attendance",
        *REPORTS,
        "--out",
        str(out_dir),
        "--issued-on",
        "2021-01-20",
        "--skip-unrenderable",
    )
    assert code == 0, err
    assert "王秀英 (p01)" in out
    for code_point in ("U+738B", "U+79C0", "U+82F1"):
        assert code_point in out
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    issued_to = {item["person"] for item in manifest["certificates"]}
    assert "p01" not in issued_to
    assert len(issued_to) == 5
    left_out = {item["person"]: item for item in manifest["no_certificate"]}
    assert "U+738B" in left_out["p01"]["reason"]
    # No certificate is on record for the person left out ...
    code, out, _ = run(capsys, "transcript", "--person", "p01")
    assert "BC-" not in out
    # ... and once the name can be drawn, the attendance on record certifies them.
    code, out, err = run(
        capsys,
        "certify",
        str(SERIES),
        "--attendance",
        *REPORTS,
        "--out",
        str(out_dir),
        "--issued-on",
        "2021-01-20",
    )
    assert code == 0, err
    assert "Ana Ruiz" in out


# -- 14.4: credits without attendance ------------------------------------------------------------


def test_credits_without_attendance_says_so_and_exits_1(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "credits", str(SERIES))
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert "no attendance given" in err
    assert "--attendance" in err
    assert "--from-ledger" not in err  # no ledger: nothing to offer
    assert not (fresh / "ledger.sqlite3").exists()


def test_credits_offers_and_uses_the_attendance_on_record(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys,
        "certify",
        str(SERIES),
        "--attendance",
        *REPORTS[:3],
        "--out",
        str(fresh / "out"),
    )
    assert code == 0, err
    code, out, err = run(capsys, "credits", str(SERIES))
    assert code == 1
    assert "session(s) 1, 2, 3" in err
    assert "--from-ledger" in err

    code, out, err = run(capsys, "credits", str(SERIES), "--from-ledger", "--json")
    assert code == 0, err
    from_record = json.loads(out)
    code, out, err = run(capsys, "credits", str(SERIES), "--attendance", *REPORTS[:3], "--json")
    from_reports = json.loads(out)
    assert [p["total_credit"] for p in from_record["participants"]] == [
        p["total_credit"] for p in from_reports["participants"]
    ]
    assert any(p["total_credit"] not in (None, "0.00") for p in from_record["participants"])

    # A report for another session adds to the record.
    code, out, err = run(
        capsys, "credits", str(SERIES), "--from-ledger", "--attendance", REPORTS[3], "--json"
    )
    assert code == 0, err
    code, out4, _ = run(capsys, "credits", str(SERIES), "--attendance", *REPORTS[:4], "--json")
    assert [p["total_credit"] for p in json.loads(out)["participants"]] == [
        p["total_credit"] for p in json.loads(out4)["participants"]
    ]


def test_credits_from_ledger_without_a_ledger_is_one_line(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "credits", str(SERIES), "--from-ledger")
    assert code == 1
    assert "ledger.sqlite3" in err
    assert not (fresh / "ledger.sqlite3").exists()


# -- 14.10: -v explains matches and credit rules; nothing is logged by default -----------------


def _cli(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "balint_cme", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=ROOT,
    )


def test_verbose_explains_matches_and_rules_and_default_logs_nothing(fresh: Path) -> None:
    env = {**os.environ, "BALINT_CME_LEDGER": str(fresh / "ledger.sqlite3")}
    quiet = _cli("credits", str(SERIES), "--attendance", *REPORTS, env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    loud = _cli("-v", "credits", str(SERIES), "--attendance", *REPORTS, env=env)
    assert loud.returncode == 0, loud.stderr
    assert loud.stdout == quiet.stdout  # the explanation never mixes into the table
    lines = loud.stderr.splitlines()
    assert any("zoom-session-1.csv line" in line and "matched p01 by" in line for line in lines)
    assert any("matched nobody: no roster match" in line for line in lines)
    assert any("Ana Ruiz (p01) session 1:" in line and "per quarter hour" in line for line in lines)
    assert any("not a physician: hours of participation only" in line for line in lines)


def test_the_library_logs_nothing_at_the_default_level(caplog: pytest.LogCaptureFixture) -> None:
    series = load_series(SERIES)
    with caplog.at_level(logging.INFO):
        reading = read_reports([(Path(r), None) for r in REPORTS], series)
        award_series(series, reading.register())
    assert caplog.records == []
    with caplog.at_level(logging.DEBUG, logger="balint_cme"):
        reading = read_reports([(Path(r), None) for r in REPORTS], series)
        award_series(series, reading.register())
    assert {r.name for r in caplog.records} == {"balint_cme.io.reports", "balint_cme.credit"}


# -- 14.1: a zone per file ------------------------------------------------------------------------

_STAMP = re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d [AP]M")


def _shifted(source: str, target: Path, zone: str) -> Path:
    """The example report (written in the series zone) with its times rewritten in `zone`."""
    here, there = ZoneInfo("America/Los_Angeles"), ZoneInfo(zone)

    def move(match: re.Match[str]) -> str:
        moment = datetime.strptime(match[0], "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=here)
        return moment.astimezone(there).strftime("%m/%d/%Y %I:%M:%S %p")

    text = Path(source).read_text(encoding="utf-8-sig")
    target.write_text(_STAMP.sub(move, text), encoding="utf-8")
    return target


def _totals(document: dict[str, Any]) -> dict[str, Any]:
    return {p["id"]: p["total_credit"] for p in document["participants"]}


def test_a_zone_per_file_reads_mixed_exports_in_one_run(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    utc = _shifted(REPORTS[2], fresh / "zoom-3-utc.csv", "UTC")
    new_york = _shifted(REPORTS[3], fresh / "zoom-4-ny.csv", "America/New_York")
    mixed = [*REPORTS[:2], f"3={utc}@UTC", f"{new_york}@America/New_York", REPORTS[4]]
    code, out, err = run(capsys, "credits", str(SERIES), "--attendance", *mixed, "--json")
    assert code == 0, err
    code, expected, _ = run(capsys, "credits", str(SERIES), "--attendance", *REPORTS, "--json")
    assert _totals(json.loads(out)) == _totals(json.loads(expected))
    assert _totals(json.loads(out))["p02"] == "5.00"


def test_a_file_in_another_zone_gets_an_error_naming_the_zone_that_fits(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new_york = _shifted(REPORTS[0], fresh / "zoom-1-ny.csv", "America/New_York")
    code, _, err = run(capsys, "credits", str(SERIES), "--attendance", str(new_york))
    assert code == 1
    assert err.count("\n") == 1
    assert "zoom-1-ny.csv" in err
    assert f"{new_york}@America/New_York" in err
    utc = _shifted(REPORTS[2], fresh / "zoom-3-utc.csv", "UTC")
    code, _, err = run(capsys, "credits", str(SERIES), "--attendance", f"3={utc}")
    assert code == 1
    assert f"{utc}@UTC" in err
    # Given the zone that fits, the file reads.
    code, _, err = run(capsys, "credits", str(SERIES), "--attendance", f"3={utc}@UTC")
    assert code == 0, err


def test_read_reports_takes_paths_pairs_and_a_zone_per_file(fresh: Path) -> None:
    series = load_series(SERIES)
    utc = _shifted(REPORTS[2], fresh / "zoom-3-utc.csv", "UTC")
    mixed = read_reports([REPORTS[0], (Path(REPORTS[1]), 2), (utc, 3, "UTC")], series)
    plain = read_reports([(Path(r), None) for r in REPORTS[:3]], series)
    assert award_series(series, mixed.register()) == award_series(series, plain.register())
    assert [s.session for s in mixed.sources] == [1, 2, 3]
    with pytest.raises(DataFileError, match=r"read as UTC its times fit"):
        read_reports([(utc, 3)], series)
    # A file name with '@' that is not a zone stays a file name.
    odd = fresh / "zoom@home.csv"
    odd.write_bytes(Path(REPORTS[0]).read_bytes())
    code = main(["credits", str(SERIES), "--attendance", str(odd)])
    assert code == 0


@given(
    name=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\x00"),
        min_size=1,
        max_size=20,
    ),
    session=st.one_of(st.none(), st.integers(1, 999)),
    zone=st.one_of(st.none(), st.sampled_from(["UTC", "America/New_York", "Europe/Berlin"])),
)
def test_attendance_argument_round_trips(name: str, session: int | None, zone: str | None) -> None:
    """[SESSION=]FILE[@ZONE]: the zone is split off only when it is one; the file name stays
    whole otherwise (an '@' in a file name is kept)."""
    text = (f"{session}=" if session is not None else "") + name + (f"@{zone}" if zone else "")
    path, parsed_session, parsed_zone = _session_and_path(text)
    if zone is not None:
        assert (str(path), parsed_session, parsed_zone) == (
            str(Path(name)),
            session,
            zone,
        ) or "=" in name
    elif "@" not in name and "=" not in name:
        assert (str(path), parsed_session, parsed_zone) == (str(Path(name)), session, None)
