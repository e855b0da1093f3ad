"""One answer everywhere (issue 10, items 13-15): `credits` and `certify` agree on who gets
which certificate, a certificate lists the sessions its credit came from, and rows that
matched nobody are reported by both."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from balint_cme import AttendanceRegister, Series, award_credit, award_series
from balint_cme.certificates.content import build_certificate
from balint_cme.cli import main
from balint_cme.credit import certificate_decision
from balint_cme.errors import CertificateError
from balint_cme.model import CreditPolicy
from balint_cme.testing import series_with_attendance
from tests.certificate_helpers import ISSUED_ON, TEST_KEY
from tests.command.test_cli import REPORTS, SERIES
from tests.conftest import attend

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

# -- item 13: one function decides the kind ---------------------------------------------------


@given(series_with_attendance())
@settings(max_examples=60)
def test_the_decision_is_the_certificate_built(case: tuple[Series, AttendanceRegister]) -> None:
    series, register = case
    for award in award_series(series, register):
        decision = certificate_decision(series, award)
        try:
            certificate = build_certificate(
                series, award, number="N-1", issued_on=date(2099, 1, 1), key=TEST_KEY
            )
        except CertificateError:
            assert decision.kind == "none"
            assert decision.reason
        else:
            assert certificate.kind == decision.kind
            assert decision.reason is None
            assert certificate.session_dates == tuple(s.held_on for s in decision.sessions)


def _series_file(tmp_path: Path, policy: str) -> str:
    text = Path(SERIES).read_text(encoding="utf-8") + "\n[policy]\n" + policy + "\n"
    path = tmp_path / "series.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "policy",
    ["participation_certificates = false", "minimum_minutes = 70", "all_or_nothing_ratio = 1"],
)
def test_credits_json_and_certify_agree_on_every_person(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    policy: str,
) -> None:
    series = _series_file(workspace, policy)
    code, out, err = _run(capsys, "credits", series, "--attendance", *REPORTS, "--json")
    assert code == 0, err
    said = {p["id"]: p for p in json.loads(out)["participants"]}
    out_dir = workspace / "certificates"
    code, _, err = _run(
        capsys, "certify", series, "--attendance", *REPORTS, "--out", str(out_dir),
        "--issued-on", "2021-01-20",
    )  # fmt: skip
    assert code == 0, err
    manifest: dict[str, Any] = json.loads((out_dir / "manifest.json").read_text("utf-8"))
    given_kind = {c["person"]: c["kind"] for c in manifest["certificates"]}
    refused = {s["person"]: s["reason"] for s in manifest["no_certificate"]}
    for person, entry in said.items():
        assert entry["certificate"] == given_kind.get(person, "none"), person
        assert entry["certificate_reason"] == refused.get(person), person
    assert any(entry["certificate"] == "none" for entry in said.values())


# -- item 14: a certificate lists the sessions its credit came from ----------------------------


def test_all_or_nothing_credit_certificate_lists_only_sessions_that_earned(
    series_2020: Series,
) -> None:
    series = series_2020.evolve(policy=CreditPolicy(all_or_nothing_ratio=Decimal("0.75")))
    register = AttendanceRegister(
        [attend(series, "p01", 1, 0, 60), attend(series, "p01", 2, 0, 30)]  # 30 < 45 minutes
    )
    award = award_credit(series, register, "p01")
    assert [s.credit for s in award.attended_sessions] == [Decimal("1.00"), Decimal("0.00")]
    certificate = build_certificate(series, award, number="N-1", issued_on=ISSUED_ON, key=TEST_KEY)
    assert certificate.kind == "credit"
    assert certificate.credits == Decimal("1.00")
    assert certificate.session_dates == (date(2020, 9, 9),)


def test_participation_certificate_lists_the_sessions_attended(series_2020: Series) -> None:
    series = series_2020.evolve(policy=CreditPolicy(all_or_nothing_ratio=Decimal("0.75")))
    register = AttendanceRegister(
        [attend(series, "p03", 1, 0, 60), attend(series, "p03", 2, 0, 30)]
    )
    certificate = build_certificate(
        series, award_credit(series, register, "p03"), number="N-2", issued_on=ISSUED_ON,
        key=TEST_KEY,
    )  # fmt: skip
    assert certificate.kind == "participation"
    assert certificate.session_dates == (date(2020, 9, 9), date(2020, 10, 14))
    assert certificate.hours == Decimal("1.50")


# -- item 15: certify lists rows that matched nobody -------------------------------------------


def test_certify_lists_unmatched_rows_like_credits_and_in_the_manifest(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "credits", SERIES, "--attendance", *REPORTS, "--json")
    assert code == 0
    unmatched = json.loads(out)["unmatched"]
    assert unmatched
    out_dir = workspace / "certificates"
    code, out, err = _run(
        capsys, "certify", SERIES, "--attendance", *REPORTS, "--out", str(out_dir),
        "--issued-on", "2021-01-20",
    )  # fmt: skip
    assert code == 0, err
    assert "1 report row(s) matched nobody (add an alias to the roster):" in out
    assert "line 12: iPhone, session 1, 12.50 min (no roster match)" in out
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["unmatched"] == unmatched


def test_quiet_certify_still_warns_about_unmatched_rows(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(
        capsys, "certify", SERIES, "--attendance", *REPORTS, "--out",
        str(workspace / "certificates"), "--issued-on", "2021-01-20", "--quiet",
    )  # fmt: skip
    assert code == 0
    assert out == ""
    assert "line 12: iPhone, session 1, 12.50 min (no roster match)" in err
