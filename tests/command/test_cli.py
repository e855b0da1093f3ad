"""The balint-cme command as a user runs it: output, exit codes, one-line errors, files."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from balint_cme.cli import build_parser, main
from tests.conftest import EXAMPLES

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

SERIES = str(EXAMPLES / "ssvms-balint-2020.toml")
REPORTS = [str(EXAMPLES / "reports" / f"zoom-session-{n}.csv") for n in range(1, 6)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _certify(
    capsys: pytest.CaptureFixture[str],
    series: str,
    out: Path,
    *reports: str,
    issued_on: str = "2021-01-20",
) -> dict[str, Any]:
    """Run certify into `out`; return its manifest."""
    code, _, err = run(
        capsys,
        "certify",
        series,
        "--attendance",
        *reports,
        "--out",
        str(out),
        "--issued-on",
        issued_on,
    )
    assert code == 0, err
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return manifest


# -- check, schema, schedule --------------------------------------------------------------------


def test_check_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", SERIES)
    assert code == 0
    assert "ok" in out
    assert "5 session(s) (5 dated)" in out


def test_check_lists_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = Path(SERIES).read_text(encoding="utf-8")
    text = text.replace('timezone = "America/Los_Angeles"', 'timezone = "Mars/Olympus"')
    text = text.replace('credentials = "NP"', 'credentials = ""')
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "check", str(bad))
    assert code == 1
    assert out == ""
    line = text.splitlines().index('timezone = "Mars/Olympus"') + 1
    assert f"{bad} line {line}: timezone" in err
    assert "participants[3].credentials" in err
    assert "2 problem(s)" in err
    assert "Traceback" not in err


def test_missing_series_file_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "schedule", str(tmp_path / "nope.toml"))
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("balint-cme: error: ")
    assert "nope.toml: cannot read file" in err


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["certify", SERIES])
    assert caught.value.code == 2


def test_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert json.loads(out)["title"] == "balint_cme series file"


def test_schedule_lists_local_times_and_writes_ics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ics = tmp_path / "balint.ics"
    code, out, _ = run(capsys, "schedule", SERIES, "--ics", str(ics))
    assert code == 0
    assert "1. Wed 2020-09-09 06:45 PM - 07:45 PM PDT" in out
    assert "4. Wed 2020-12-09 06:45 PM - 07:45 PM PST" in out
    assert ics.read_bytes().count(b"BEGIN:VEVENT") == 5


def test_schedule_of_tbd_series_says_to_be_announced(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schedule", str(EXAMPLES / "ssvms-balint-2023.toml"))
    assert code == 0
    assert out.count("date to be announced") == 4
    assert "Dates: 2023 TBD" in out


# -- credits ------------------------------------------------------------------------------------


def test_credits_json_has_the_contract_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "credits", SERIES, "--attendance", *REPORTS, "--json")
    assert code == 0
    document = json.loads(out)
    assert document["series"] == "ssvms-balint-2020"
    people = {p["id"]: p for p in document["participants"]}
    assert list(people) == ["p01", "p02", "p03", "p04", "p05", "p06", "f01"]
    ana = people["p01"]
    assert ana["name"] == "Ana Ruiz"
    assert ana["credentials"] == "MD"
    assert ana["physician"] is True
    assert ana["sessions"][0] == {
        **ana["sessions"][0],
        "session": 1,
        "minutes": 52.0,
        "credit": "0.75",
    }
    assert len(ana["sessions"]) == 5
    assert ana["total_credit"] == "4.75"
    assert ana["participation_hours"] == "4.75"
    grace = people["p03"]
    assert grace["physician"] is False
    assert grace["total_credit"] is None
    assert all(s["credit"] is None for s in grace["sessions"])
    assert grace["participation_hours"] == "2.25"
    assert people["p02"]["total_credit"] == "5.00"
    unmatched = document["unmatched"]
    assert unmatched == [
        {
            **unmatched[0],
            "file": REPORTS[0],
            "line": 12,
            "name": "iPhone",
            "email": None,
            "session": 1,
            "minutes": 12.5,
        }
    ]


def test_credits_table_names_unmatched_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "credits", SERIES, "--attendance", *REPORTS)
    assert code == 0
    assert "Ana Ruiz" in out
    assert "52.00   0.75" in out
    assert "line 12: iPhone, session 1, 12.50 min (no roster match)" in out


def test_credits_with_explicit_session_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "credits", SERIES, "--attendance", f"1={REPORTS[0]}", "--json")
    assert code == 0
    ana = json.loads(out)["participants"][0]
    assert ana["total_credit"] == "0.75"


def test_credits_with_wrong_session_number_names_the_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "credits", SERIES, "--attendance", f"9={REPORTS[0]}")
    assert code == 1
    assert "zoom-session-1.csv: session 9 does not exist" in err


def test_unreadable_report_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "zoom.csv"
    junk.write_bytes(b"\x00\xff\xfe garbage\n")
    code, _, err = run(capsys, "credits", SERIES, "--attendance", str(junk))
    assert code == 1
    assert err.startswith(f"balint-cme: error: {junk}")
    assert err.count("\n") == 1


# -- certify, verify, revoke, records -----------------------------------------------------------


def test_certify_writes_certificates_manifest_and_is_idempotent(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = workspace / "certificates"
    argv = [
        "certify",
        SERIES,
        "--attendance",
        *REPORTS,
        "--out",
        str(out_dir),
        "--issued-on",
        "2021-01-20",
    ]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    by_person = {c["person"]: c for c in manifest["certificates"]}
    assert set(by_person) == {"p01", "p02", "p03", "p04", "p05", "p06"}
    assert by_person["p01"]["kind"] == "credit"
    assert by_person["p01"]["credits"] == "4.75"
    assert by_person["p03"]["kind"] == "participation"
    assert by_person["p03"]["hours"] == "2.25"
    assert [s["person"] for s in manifest["no_certificate"]] == ["f01"]
    files = {p.name: p.read_bytes() for p in out_dir.glob("*.pdf")}
    assert len(files) == 6
    assert "6 new or changed" in out

    code, out, _ = run(capsys, *argv[:-2], "--issued-on", "2022-02-02")  # a later re-run
    assert code == 0
    assert "0 new or changed" in out
    assert {p.name: p.read_bytes() for p in out_dir.glob("*.pdf")} == files
    again = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {c["issued_on"] for c in again["certificates"]} == {"2021-01-20"}


def test_verify_reports_valid_revoked_and_altered(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = workspace / "certificates"
    _certify(capsys, SERIES, out_dir, *REPORTS)
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    first = manifest["certificates"][0]
    pdf = out_dir / first["file"]

    code, out, _ = run(capsys, "verify", str(pdf))
    assert code == 0
    assert out.startswith("valid")
    assert "Ana Ruiz" in out

    code, out, _ = run(capsys, "verify", first["verification_code"])
    assert code == 0
    assert out.startswith("valid")

    altered = workspace / "altered.pdf"
    altered.write_bytes(pdf.read_bytes().replace(b"4.75", b"5.00"))
    code, out, _ = run(capsys, "verify", str(altered))
    assert code == 1
    assert out.startswith("altered")

    code, out, _ = run(capsys, "revoke", first["number"], "--reason", "issued in error")
    assert code == 0
    code, out, _ = run(capsys, "verify", str(pdf))
    assert code == 1
    assert out.startswith("revoked: issued in error")


def test_verify_with_a_missing_or_folder_ledger_could_not_check_and_never_says_valid(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = workspace / "certificates"
    _certify(capsys, SERIES, out_dir, *REPORTS)
    first = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))["certificates"][0]
    pdf = out_dir / first["file"]
    code, _, _ = run(capsys, "revoke", first["number"], "--reason", "issued in error")
    assert code == 0
    for wrong in (workspace / "ledgr.sqlite3", workspace):
        code, out, err = run(capsys, "verify", str(pdf), "--ledger", str(wrong))
        assert code == 3
        assert out == ""
        assert err.startswith("balint-cme: error: could not check: ")
        assert str(wrong) in err
        assert ("is a folder" if wrong.is_dir() else "does not exist") in err
    # The real ledger says revoked (exit 1); with no ledger at all the seal is genuine but the
    # output says plainly that revocation was not checked (exit 4, never 0).
    code, out, _ = run(capsys, "verify", str(pdf), "--ledger", os.environ["BALINT_CME_LEDGER"])
    assert (code, out.splitlines()[0]) == (1, "revoked: issued in error")
    monkeypatch.setenv("BALINT_CME_LEDGER", str(workspace / "elsewhere.sqlite3"))
    code, out, _ = run(capsys, "verify", str(pdf))
    assert code == 4
    assert "revocation not checked" in out


def test_verify_help_names_a_file_certify_writes_and_the_exit_codes(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subcommands = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    text = subcommands.choices["verify"].format_help()
    example = re.search(r"balint-cme verify certificates/(\S+\.pdf)", text)
    assert example is not None
    _certify(capsys, SERIES, workspace / "certificates", *REPORTS)
    assert (workspace / "certificates" / example.group(1)).is_file()
    for code in ("0  valid", "1  not valid", "2  usage", "3  could not check", "4  seal"):
        assert code in text


def test_verify_json_has_a_versioned_shape_and_the_exit_code(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = workspace / "certificates"
    _certify(capsys, SERIES, out_dir, *REPORTS)
    first = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))["certificates"][0]
    code, out, _ = run(capsys, "verify", str(out_dir / first["file"]), "--json")
    document = json.loads(out)
    assert code == 0
    assert document["format"] == "balint-cme/verify/1"
    assert (document["status"], document["valid"], document["exit_code"]) == ("valid", True, 0)
    assert document["revocation_checked"] is True
    assert document["page_sealed"] is True
    assert document["claims"]["number"] == first["number"]
    assert document["code"] == first["verification_code"]
    assert set(document) == {
        "format", "status", "valid", "exit_code", "revocation_checked", "page_sealed",
        "claims", "code", "key_id", "altered", "differences", "notes", "page_digest", "signature",
    }  # fmt: skip
    code, out, _ = run(capsys, "verify", str(workspace / "missing.pdf"), "--json")
    document = json.loads(out)
    assert (code, document["status"], document["exit_code"]) == (3, "could-not-check", 3)
    assert "missing.pdf" in document["differences"][0]


def test_verify_code_without_a_ledger_could_not_be_checked_exit_3(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "verify", "test.AAAA-BBBB-CCCC-DDDD-EEEE-FFFF")
    assert code == 3
    assert out.startswith("could-not-check")
    assert "ledger" in out


def test_corrected_name_issues_a_new_version_that_supersedes(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = workspace / "certificates"
    _certify(capsys, SERIES, out_dir, *REPORTS)
    old_pdf = (
        out_dir
        / json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))["certificates"][0][
            "file"
        ]
    )
    old_bytes = old_pdf.read_bytes()
    corrected = workspace / "series.toml"
    corrected.write_text(
        Path(SERIES).read_text(encoding="utf-8").replace('"Ana Ruiz"', '"Ana Ruiz-Soto"'),
        encoding="utf-8",
    )
    code, out, _ = run(
        capsys,
        "certify",
        str(corrected),
        "--attendance",
        *REPORTS,
        "--out",
        str(out_dir),
        "--issued-on",
        "2021-02-01",
    )
    assert code == 0
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    ana = manifest["certificates"][0]
    assert ana["version"] == 2
    assert ana["name"] == "Ana Ruiz-Soto"
    stale = workspace / "old.pdf"
    stale.write_bytes(old_bytes)
    code, out, _ = run(capsys, "verify", str(stale))
    assert code == 1
    assert out.startswith("superseded by version 2")


def test_attendance_transcript_and_ledger_check(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _certify(capsys, SERIES, workspace / "c", *REPORTS)
    code, out, _ = run(capsys, "attendance", "--person", "ana.ruiz@example.org")
    assert code == 0
    assert "session 1 2020-09-09: 52.00 min, credit 0.75" in out
    code, out, _ = run(
        capsys, "transcript", "--person", "p01", "--from", "2020-10-01", "--to", "2022-09-30"
    )
    assert code == 0
    # Session 1 (September 2020) is outside the window; sessions 2-5 count.
    assert "4.00 credit, 4.00 h — 2020-10-14, 2020-11-11, 2020-12-09, 2021-01-13" in out
    assert "total 4.00 credit of 50.00 needed; 46.00 still needed" in out
    code, out, _ = run(capsys, "ledger", "check")
    assert code == 0
    assert out.startswith("intact")


def test_pars_export_has_consenting_physicians_and_lists_the_rest(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = workspace / "series.toml"
    series.write_text(
        Path(SERIES)
        .read_text(encoding="utf-8")
        .replace(
            'email = "ana.ruiz@example.org"\n',
            'email = "ana.ruiz@example.org"\nlicense_state = "CA"\nlicense_number = "A123456"\n'
            "birth_month = 4\nbirth_day = 17\n",
        ),
        encoding="utf-8",
    )
    run(capsys, "certify", str(series), "--attendance", *REPORTS, "--out", str(workspace / "c"))
    for person in ("p01", "p04"):
        code, _, _ = run(capsys, "consent", "--person", person, "--wording", "v1")
        assert code == 0
    out_file = workspace / "pars.txt"
    code, out, _ = run(capsys, "pars", str(series), "--out", str(out_file))
    assert code == 3  # p04 consented but was left out (missing data)
    assert "wrote 1 learner row(s)" in out
    assert "not exported: José Núñez (p04, ssvms-balint-2020): missing" in out
    assert "not exported: p02 in ssvms-balint-2020: no consent on record" in out
    rows = out_file.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2
    assert "\tAna\tRuiz\t4\t17\tCA\tA123456\t" in rows[1]
    assert "\t4.75\t" in rows[1]


def test_certify_with_a_name_no_font_covers_changes_nothing(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = workspace / "series.toml"
    series.write_text(
        Path(SERIES).read_text(encoding="utf-8").replace('"Ana Ruiz"', '"王秀英"'), encoding="utf-8"
    )
    out_dir = workspace / "out"
    code, _, err = run(
        capsys, "certify", str(series), "--attendance", *REPORTS, "--out", str(out_dir)
    )
    assert code == 1
    assert "U+738B" in err
    # One line naming the person (name and id) and every missing character.
    assert err.count("\n") == 1
    assert "certificate for 王秀英 (p01): name:" in err
    assert all(c in err for c in ("'王'", "'秀'", "'英'"))
    assert "DRAFT" not in err
    assert not out_dir.exists()
    assert not (workspace / "ledger.sqlite3").exists() or main(["ledger", "check"]) == 0


# -- demo, help, entry points -------------------------------------------------------------------


def test_demo_writes_certificates_report_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "demo"
    code, out, _ = run(capsys, "demo", "--out", str(out_dir))
    assert code == 0
    assert "Ana Ruiz" in out
    assert "matched nobody" in out
    assert len(list((out_dir / "certificates").glob("*.pdf"))) == 6
    assert (out_dir / "report.txt").read_text(encoding="utf-8").startswith("2020 Balint Group")
    assert (
        json.loads((out_dir / "credits.json").read_text(encoding="utf-8"))["series"]
        == "ssvms-balint-2020"
    )


def test_every_subcommand_help_has_an_example() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert len(commands.choices) >= 12
    for name, sub in commands.choices.items():
        assert "example:\n  balint-cme" in sub.format_help(), name


def test_python_m_runs_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "balint_cme", "check", SERIES],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert result.returncode == 0
    assert "ok" in result.stdout


def test_certify_uses_a_layout_file_and_names_a_bad_one(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = workspace / "layout.toml"
    layout.write_text('primary_colour = "#004400"\nshow_qr = false\n', encoding="utf-8")
    out_dir = workspace / "green"
    argv = ["certify", SERIES, "--attendance", *REPORTS, "--out", str(out_dir)]
    code, _, err = run(capsys, *argv, "--layout", str(layout))
    assert code == 0, err
    assert "%" not in err  # piped: no progress bar
    page = PdfReader(next(out_dir.glob("*.pdf"))).pages[0]
    contents = page.get_contents()
    assert contents is not None
    assert b"0 .266667 0" in contents.get_data()  # #004400 as a PDF colour
    layout.write_text('primary_colour = "green"\n', encoding="utf-8")
    code, _, err = run(capsys, *argv, "--layout", str(layout))
    assert code == 1
    assert f"balint-cme: error: {layout}: primary_colour: 'green' is not a colour" in err


def test_certify_with_one_new_report_keeps_the_attendance_on_record(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _certify(capsys, SERIES, workspace / "c", *REPORTS[:4])
    assert {c["person"]: c["credits"] for c in first["certificates"]}["p01"] == "3.75"
    later = _certify(capsys, SERIES, workspace / "c", REPORTS[4])  # session 5's report arrives
    by_person = {c["person"]: c for c in later["certificates"]}
    assert by_person["p01"]["credits"] == "4.75"
    assert by_person["p01"]["version"] == 2
    again = _certify(capsys, SERIES, workspace / "c", REPORTS[4])  # the same report again
    assert [c["version"] for c in again["certificates"]] == [
        c["version"] for c in later["certificates"]
    ]
    code, out, _ = run(capsys, "attendance", "--person", "p01")
    assert code == 0
    assert out.count("min, credit") == 5


def test_pars_leaves_out_revoked_certificates_and_uses_the_activity_id(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = workspace / "series.toml"
    text = Path(SERIES).read_text(encoding="utf-8")
    # Each physician has an NPI of their own: one NPI names one person.
    for email, npi in (
        ("ana.ruiz@example.org", "1234567893"),
        ("jose.nunez@example.org", "1245319599"),
    ):
        text = text.replace(
            f'email = "{email}"\n',
            f'email = "{email}"\nnpi = "{npi}"\nbirth_month = 4\nbirth_day = 17\n',
        )
    series.write_text(text, encoding="utf-8")
    manifest = _certify(capsys, str(series), workspace / "c", *REPORTS)
    numbers = {c["person"]: c["number"] for c in manifest["certificates"]}
    for person in ("p01", "p04"):
        run(capsys, "consent", "--person", person)
    run(capsys, "revoke", numbers["p04"], "--reason", "issued to the wrong person")
    out_file = workspace / "pars.txt"
    code, out, _ = run(
        capsys,
        "pars",
        str(series),
        "--out",
        str(out_file),
        "--activity-id",
        "ssvms-balint-2020=A-20201",
    )
    assert code == 3  # p04 consented but has no valid certificate
    rows = out_file.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2
    assert rows[1].startswith("A-20201\tAna\tRuiz")
    assert "not exported: p04 in ssvms-balint-2020: certificate BC-" in out
    assert "revoked: issued to the wrong person" in out


def test_verify_accepts_a_certificate_redrawn_with_another_layout(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _certify(capsys, SERIES, workspace / "c", *REPORTS)
    first = next((workspace / "c").glob("*.pdf"))
    kept = workspace / "kept-first-drawing.pdf"
    kept.write_bytes(first.read_bytes())
    layout = workspace / "layout.toml"
    layout.write_text('primary_colour = "#000000"\n', encoding="utf-8")
    code, out, _ = run(
        capsys,
        "certify",
        SERIES,
        "--attendance",
        *REPORTS,
        "--out",
        str(workspace / "c"),
        "--layout",
        str(layout),
    )
    assert code == 0
    assert "re-drawn with different bytes" in out
    redrawn = first.read_bytes()
    assert redrawn != kept.read_bytes()
    code, out, _ = run(capsys, "verify", str(first))
    assert code == 0, out
    assert out.startswith("valid")
    assert "differ from the file recorded at issue" in out
    # certify recorded the re-drawn page: a page the ledger never recorded would be "altered".
    assert "the page is one the ledger recorded for this number" in out
    # The first drawing (the one the person holds) stays valid: both pages are recorded.
    code, out, _ = run(capsys, "verify", str(kept))
    assert (code, out.splitlines()[0]) == (0, "valid"), out


def test_transcript_reads_a_series_certified_from_json(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from balint_cme.io.series_file import load_series, save_series

    as_json = workspace / "series.json"
    save_series(load_series(SERIES), as_json)
    _certify(capsys, str(as_json), workspace / "c", *REPORTS)
    code, out, err = run(capsys, "transcript", "--person", "p01")
    assert code == 0, err
    assert "total 4.75 credit" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["transcript", "--person", "p01", "--target", "abc"], "not a positive multiple of 0.25"),
        (["consent", "--person", "p01", "--given-at", "yesterday"], "is not a date or time"),
    ],
)
def test_bad_option_values_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_transcript_window_backwards_and_ics_into_missing_folder_are_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _certify(capsys, SERIES, workspace / "c", *REPORTS)
    code, _, err = run(
        capsys, "transcript", "--person", "p01", "--from", "2022-01-01", "--to", "2021-01-01"
    )
    assert code == 1
    assert err == "balint-cme: error: --from 2022-01-01 is after --to 2021-01-01\n"
    code, _, err = run(capsys, "schedule", SERIES, "--ics", str(workspace / "no" / "x.ics"))
    assert code == 1
    assert "cannot write the calendar" in err
    assert err.count("\n") == 1


def test_first_certify_with_a_bad_report_creates_no_key_and_no_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BALINT_CME_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("BALINT_CME_KEY_FILE", str(tmp_path / "keys" / "signing.key"))
    junk = tmp_path / "zoom.csv"
    junk.write_text("Name,Something\nnot,a report\n", encoding="utf-8")
    code, out, err = run(
        capsys, "certify", SERIES, "--attendance", str(junk), "--out", str(tmp_path / "c")
    )
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert not (tmp_path / "ledger.sqlite3").exists()
    assert not (tmp_path / "keys").exists()


def test_consent_given_in_the_future_is_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _certify(capsys, SERIES, workspace / "c", *REPORTS)
    code, _, err = run(capsys, "consent", "--person", "p01", "--given-at", "2999-01-01")
    assert code == 1
    assert "is in the future" in err
    code, out, _ = run(capsys, "consent", "--person", "p01", "--given-at", "2021-01-20")
    assert code == 0
    assert (
        "consent recorded for ledger person P000001 (ssvms-balint-2020:p01) (wording v1, 2021-01-20)"
        in out
    )
