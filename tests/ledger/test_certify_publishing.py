"""certify publishes only what the ledger confirmed: a `revoke` that races a batch (here: lands
while the batch is being drawn, from a second connection, as a second coordinator's command
would) leaves the output folder exactly as it was, and the next run issues the rest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from balint_cme.certificates.keys import create_key
from balint_cme.errors import LedgerError
from balint_cme.ledger import Ledger
from balint_cme.workflow import certify
from tests.command_helpers import tree, write_roster
from tests.conftest import ROOT

PEOPLE = 12


@pytest.mark.parametrize("merged", [False, True], ids=["separate", "merged"])
def test_a_revoke_racing_certify_leaves_the_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merged: bool
) -> None:
    monkeypatch.setenv("BALINT_CME_CACHE_DIR", str(ROOT / ".venv" / "balint-cme-cache"))
    key = create_key(tmp_path / "signing.key", key_id="race")
    series, sheet = write_roster(tmp_path / "in", [f"Person {i}" for i in range(PEOPLE)])
    retitled = series.with_name("retitled.toml")  # a corrected title: everyone a version 2
    retitled.write_text(
        series.read_text(encoding="utf-8").replace("2020 Balint Group", "Balint Group 2020"),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    ledger_file = tmp_path / "ledger.sqlite3"

    def run(series_file: Path, progress: object = None) -> None:
        with Ledger.open(ledger_file) as ledger:
            certify(
                series_file,
                [(sheet, None)],
                out,
                key=key,
                ledger=ledger,
                issued_on=date(2021, 1, 20),
                actor="coordinator",
                merged=merged,
                workers=1,
                progress=progress,  # type: ignore[arg-type]
            )

    run(series)  # version 1 of every certificate, and its manifest
    before = tree(out)
    assert before is not None

    raced: list[str] = []

    def revoke_one(_: int) -> None:
        """Another coordinator revokes a certificate while this batch is drawn."""
        if raced:
            return
        with Ledger.open(ledger_file, create=False) as other:
            pending = other.pending()
            assert pending, "the race must land while the batch is reserved"
            number = pending[len(pending) // 2].number
            other.revoke(number, reason="issued to the wrong person", actor="colleague")
        raced.append(number)

    with pytest.raises(LedgerError, match="nothing from this run was published"):
        run(retitled, progress=revoke_one)
    assert tree(out) == before  # no new PDF, no old one replaced, the old manifest true
    with Ledger.open(ledger_file, create=False) as ledger:
        assert ledger.check_chain().is_intact
        assert ledger.check_files(out) == ()  # everything issued has its file, as recorded
        assert len(ledger.pending()) == PEOPLE - 1  # the rest still reserved
        assert ledger.certificate_status(raced[0]).state == "revoked"

    run(retitled)  # the next run issues the rest and leaves the revoked one out
    with Ledger.open(ledger_file, create=False) as ledger:
        assert ledger.pending() == ()
        current = ledger.certificates(state="issued")
        assert ledger.check_files(out) == ()
    assert len(current) == PEOPLE - 1
    assert {c.version for c in current} == {2}
    assert raced[0] not in {c.number for c in current}
