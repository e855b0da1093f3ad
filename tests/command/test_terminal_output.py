"""Text from files reaches a terminal or a spreadsheet only in a form that cannot act.

Names and values printed by the command have their control characters (C0, DEL, C1, so ESC
sequences) and bidi overrides made visible; roster names with line breaks or other controls are
refused when the series file is loaded, naming file and line; PARS cells whose formula start
hides behind invisible characters are neutralised.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balint_cme.errors import DataFileError
from balint_cme.io.pars import ParsLearner, ParsReport, format_pars_tsv, load_pars_columns
from balint_cme.io.series_file import load_series
from balint_cme.storage import neutralise_cell
from balint_cme.text import strip_invisible, visible
from tests.command_helpers import (
    REPORTS_2020,
    SERIES_2020,
    roster_series_toml,
    run,
    write_roster,
)

# The payload: sets the window title, clears the screen, prints red fake text.
PAYLOAD = "A. Person \x1b]0;PWNED\x07\x1b[2J\x1b[31mFAKE: all certificates revoked\x1b[0m"
SHOWN = "A. Person \\x1b]0;PWNED\\x07\\x1b[2J\\x1b[31mFAKE: all certificates revoked\\x1b[0m"
RTL = "Eve \u202egnp.exe\u202c Mallory"
_RAW = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
"""What must never be printed raw (line feeds between lines are the output's own)."""


def assert_inert(text: str) -> None:
    found = _RAW.search(text)
    assert found is None, f"raw {found[0]!r} printed in {text!r}"


def _report_with_names(workspace: Path, *names: str) -> Path:
    """The 2020 example's first Zoom report with a row per name added (matching nobody)."""
    lines = REPORTS_2020[0].read_text(encoding="utf-8-sig").splitlines()
    row = next(line for line in lines if line.startswith("Rochelle Frank,"))
    extra = [
        '"'
        + name.replace('"', '""')
        + '"'
        + row.removeprefix("Rochelle Frank").replace("rfrank@example.org", "")
        for name in names
    ]
    report = workspace / "zoom-1.csv"
    report.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return report


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_escape_sequences_in_a_report_name_are_shown_not_run_by_credits(
    workspace: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    report = _report_with_names(workspace, PAYLOAD, RTL)
    argv: list[str | Path] = ["credits", SERIES_2020, "--attendance", f"1={report}"]
    argv += ["--json"] if as_json else []
    code, stdout, stderr = run(capsys, *argv)
    assert code == 0, stderr
    assert_inert(stdout + stderr)
    if as_json:  # still JSON, and it still means the same names
        unmatched = {row["name"] for row in json.loads(stdout)["unmatched"]}
        assert {PAYLOAD, RTL} <= unmatched
    else:
        assert SHOWN in stdout
        assert "Eve \\u202egnp.exe\\u202c Mallory" in stdout


def test_a_roster_name_with_an_escape_sequence_is_refused_in_one_inert_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series, sheet = write_roster(workspace / "in", ["Ana Ruiz", PAYLOAD])
    commands: list[list[str | Path]] = [
        ["certify", series, "--attendance", sheet, "--out", workspace / "out"],
        ["credits", series, "--attendance", sheet],
        ["check", series],
    ]
    for argv in commands:
        code, stdout, stderr = run(capsys, *argv)
        assert code == 1
        assert_inert(stdout + stderr)
        assert "U+001B" in stderr
    assert not (workspace / "out").exists()


def test_an_escape_sequence_given_to_verify_is_shown_not_run(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, stderr = run(capsys, "verify", PAYLOAD)
    assert code == 3  # could not check: neither a file nor a code
    assert_inert(stdout + stderr)
    assert "\\x1b]0;PWNED\\x07" in stdout + stderr


def test_names_on_record_are_shown_inert_by_attendance(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series, sheet = write_roster(workspace / "in", ["Ana Ruiz"])
    assert run(capsys, "certify", series, "--attendance", sheet, "--out", workspace / "o")[0] == 0
    connection = sqlite3.connect(workspace / "ledger.sqlite3")  # a name edited in the file
    connection.execute("UPDATE people SET name = ?", (PAYLOAD,))  # the one person on record
    connection.commit()
    connection.close()
    code, stdout, stderr = run(capsys, "attendance", "--person", "p0001")
    assert code == 0, stderr
    assert_inert(stdout + stderr)
    assert stdout.startswith(f"ledger person P000001 {SHOWN}")


@given(st.text())
def test_visible_text_never_holds_a_character_that_acts(text: str) -> None:
    shown = visible(text)
    assert _RAW.search(shown.replace("\n", "")) is None
    assert "\n" not in shown
    assert visible(shown) == shown
    assert json.loads('"' + visible(json.dumps(text)[1:-1], json_escapes=True) + '"') == text


# ---------------------------------------------------------------------------------------------
# Names are one plain line


@pytest.mark.parametrize("name", ["Ana\nRuiz", "Ana\rRuiz", "Ana\x85Ruiz", "Ana\u2028Ruiz"])
def test_a_roster_name_with_a_line_break_is_refused_naming_file_and_line(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / "series.toml"
    path.write_text(roster_series_toml(["Ben Okafor", name]), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_series(path)
    assert caught.value.path == path
    assert caught.value.line is not None
    assert "name = " in path.read_text(encoding="utf-8").splitlines()[caught.value.line - 1]
    assert "one plain line" in str(caught.value)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------------------------------------
# PARS cells behind invisible characters

_INVISIBLE = st.sampled_from(
    ["\x00", "\x1c", "\x1b", "\u200b", "\ufeff", "\u2060", " ", "\u00a0", "\u3164", "\x7f"]
)
_TRIGGERS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _without_invisible(text: str) -> str:
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf", "Zs", "Zl", "Zp"}
    )


@given(
    prefix=st.lists(_INVISIBLE, max_size=4).map("".join),
    trigger=st.sampled_from(_TRIGGERS),
    rest=st.text(max_size=20),
)
def test_a_formula_behind_invisible_characters_is_neutralised(
    prefix: str, trigger: str, rest: str
) -> None:
    cell = neutralise_cell(prefix + trigger + rest)
    assert cell.startswith("'")
    assert not strip_invisible(cell).startswith(_TRIGGERS)


_HIDDEN_FORMULAS = st.builds(
    lambda prefix, trigger, rest: prefix + trigger + rest,
    st.lists(_INVISIBLE, min_size=1, max_size=3).map("".join),
    st.sampled_from(_TRIGGERS),
    st.text(max_size=10),
)


@given(st.one_of(st.text(max_size=30), _HIDDEN_FORMULAS))
def test_no_exported_cell_starts_a_formula_after_stripping_invisible_characters(
    text: str,
) -> None:
    columns = load_pars_columns()
    learner = ParsLearner(
        activity_id=text,
        activity_title=text,
        series_id="s-1",
        participant_id="p01",
        first_name=text,
        last_name=text,
        birth_month=4,
        birth_day=17,
        license_state="CA",
        license_number=text,
        npi=None,
        email=text,
        completion_date=None,
        credits=Decimal("1.00"),
        credit_type="AMA PRA Category 1 Credit",
    )
    report = ParsReport(learners=(learner,), missing=(), without_consent=())
    for line in format_pars_tsv(report, columns).split("\r\n")[1:-1]:
        for cell in line.split("\t"):
            for seen in (strip_invisible(cell), _without_invisible(cell)):
                assert not seen.startswith(_TRIGGERS), repr(cell)
