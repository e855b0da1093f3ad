"""--json outputs (issue 14.6-14.8): pure JSON on stdout, a versioned `schema` key, valid
against the schema `balint-cme schema --output NAME` prints, exact seconds; pars says in its
exit status when a consenting learner was left out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from balint_cme.cli import main
from tests.conftest import EXAMPLES, ROOT

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

SERIES = str(EXAMPLES / "ssvms-balint-2020.toml")
REPORTS = [str(EXAMPLES / "reports" / f"zoom-session-{n}.csv") for n in range(1, 6)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def ledger_with_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    monkeypatch.setenv("BALINT_CME_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("BALINT_CME_KEY_FILE", str(tmp_path / "keys" / "signing.key"))
    monkeypatch.setenv("BALINT_CME_CACHE_DIR", str(ROOT / ".venv" / "balint-cme-cache"))
    # The example reports hold rows that match nobody (notes for the coordinator): stdout must
    # still be nothing but the JSON document.
    code, out, err = run(
        capsys,
        "certify",
        SERIES,
        "--attendance",
        *REPORTS,
        "--out",
        str(tmp_path / "c"),
        "--issued-on",
        "2021-01-20",
        "--json",
    )
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    document["_tmp"] = str(tmp_path)
    return document


def _schema(capsys: pytest.CaptureFixture[str], name: str) -> dict[str, Any]:
    code, out, _ = run(capsys, "schema", "--output", name)
    assert code == 0
    schema: dict[str, Any] = json.loads(out)
    return schema


def _valid(capsys: pytest.CaptureFixture[str], name: str, document: dict[str, Any]) -> None:
    schema = _schema(capsys, name)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    assert document["schema"] == f"balint-cme/{name}/1"


def test_certify_json_is_pure_and_valid(
    ledger_with_a_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    document = dict(ledger_with_a_run)
    document.pop("_tmp")
    _valid(capsys, "certify", document)
    credits = {c["participant_id"]: c["credits"] for c in document["certificates"]}
    assert credits["p02"] == "5.00"
    assert document["new_or_changed"] == len(document["certificates"])


def test_attendance_json_has_exact_seconds(
    ledger_with_a_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "attendance", "--person", "ana.ruiz@example.org", "--json")
    assert code == 0
    document = json.loads(out)
    _valid(capsys, "attendance", document)
    (participation,) = document["participations"]
    first = participation["sessions"][0]
    assert first["attended_seconds"] == 52 * 60
    assert isinstance(first["attended_seconds"], int)
    assert first["minutes"] == "52.00"
    assert first["credit"] == "0.75"


def test_transcript_json_is_valid(
    ledger_with_a_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "transcript",
        "--person",
        "p01",
        "--from",
        "2020-10-01",
        "--to",
        "2022-09-30",
        "--json",
    )
    assert code == 0
    document = json.loads(out)
    _valid(capsys, "transcript", document)
    assert document["total_credits"] == "4.00"
    assert document["target_met"] is False


def test_pars_json_says_who_was_left_out_and_exits_3(
    ledger_with_a_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp = Path(ledger_with_a_run["_tmp"])
    for person in ("p01", "p02"):
        assert main(["consent", "--person", person, "--wording", "v1"]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, "pars", SERIES, "--out", str(tmp / "pars.txt"), "--json")
    assert code == 3
    document = json.loads(out)
    _valid(capsys, "pars", document)
    assert document["rows_written"] == 1
    assert [e["participant_id"] for e in document["exported"]] == ["p02"]
    why = {item["participant_id"]: item["why"] for item in document["left_out"]}
    assert why["p01"] == "missing-data"
    assert why["p04"] == "no-consent"
    assert document["complete"] is False
    assert document["exit_code"] == 3
    # Text mode: the same exit status, the reason on stderr.
    code, out, err = run(capsys, "pars", SERIES, "--out", str(tmp / "pars.txt"))
    assert code == 3
    assert "left out (exit 3)" in err
    # Everyone who consented exported: exit 0.
    assert main(["consent", "--person", "p01", "--withdraw"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "pars", SERIES, "--out", str(tmp / "pars.txt"), "--json")
    assert code == 0
    assert json.loads(out)["complete"] is True


def test_every_output_schema_is_generated_from_the_models(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from balint_cme.outputs import OUTPUT_SCHEMAS, output_schema

    for name in OUTPUT_SCHEMAS:
        assert _schema(capsys, name) == json.loads(json.dumps(output_schema(name)))
    assert _schema(capsys, "series")["title"]  # the default stays the series file
    _code, out, _ = run(capsys, "schema")
    assert json.loads(out) == _schema(capsys, "series")
