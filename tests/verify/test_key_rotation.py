"""Rotating the signing key from the command line's point of view: certificates issued before
keep verifying, a re-run re-draws them exactly as issued, new versions use the new key, and a
missing retired key is a clear error rather than a silently re-sealed certificate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from balint_cme.certificates.keys import (
    create_key,
    load_retired_keys,
    retired_key,
    rotate_key,
)
from balint_cme.ledger import Ledger
from tests.command_helpers import (
    REPORTS_2020,
    SERIES_2020,
    assert_one_line_error,
    run,
)

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow


def _certify(capsys: pytest.CaptureFixture[str], series: Path, out: Path) -> tuple[int, str]:
    code, _, err = run(
        capsys,
        "certify",
        series,
        "--attendance",
        *REPORTS_2020,
        "--out",
        out,
        "--issued-on",
        "2021-01-20",
        "--quiet",
    )
    return code, err


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def test_a_rotated_key_keeps_old_certificates_valid_and_re_runs_identical(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = workspace / "out"
    assert _certify(capsys, SERIES_2020, out)[0] == 0
    before = _files(out)
    listed = json.loads(before["manifest.json"])["certificates"]
    old_pdf = workspace / "held-by-the-physician.pdf"
    old_pdf.write_bytes(before[listed[0]["file"]])

    new_key, retired = rotate_key(workspace / "keys" / "signing.key", key_id="second")
    assert retired == workspace / "keys" / "test.key"

    # Without --key-file, verify checks the current key and the ones rotated out beside it.
    code, out_text, _ = run(capsys, "verify", old_pdf)
    assert code == 0, out_text
    assert out_text.startswith("valid")
    code, out_text, _ = run(capsys, "verify", listed[0]["verification_code"])
    assert code == 0, out_text
    # With --key-file, the keys named (repeatable) are the ones used.
    code, out_text, _ = run(
        capsys, "verify", old_pdf, "--key-file", workspace / "keys" / "signing.key"
    )
    assert code == 1
    assert out_text.startswith("wrong-key")
    code, _, _ = run(
        capsys,
        "verify",
        old_pdf,
        "--key-file",
        workspace / "keys" / "signing.key",
        "--key-file",
        retired,
    )
    assert code == 0

    # A re-run issues nothing and re-draws every file as issued, old seal and all.
    with Ledger.open(workspace / "ledger.sqlite3", create=False) as ledger:
        head = ledger.head()
    code, err = _certify(capsys, SERIES_2020, out)
    assert code == 0, err
    assert _files(out) == before
    with Ledger.open(workspace / "ledger.sqlite3", create=False) as ledger:
        assert ledger.head() == head

    # A corrected title issues version 2 of each, sealed with the new key.
    retitled = workspace / "retitled.toml"
    retitled.write_text(
        SERIES_2020.read_text(encoding="utf-8").replace("2020 Balint Group", "Balint Group 2020"),
        encoding="utf-8",
    )
    code, err = _certify(capsys, retitled, out)
    assert code == 0, err
    listed_now = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["certificates"]
    assert {c["version"] for c in listed_now} == {2}
    assert all(c["verification_code"].startswith(f"{new_key.key_id}.") for c in listed_now)
    code, out_text, _ = run(capsys, "verify", out / listed_now[0]["file"])
    assert code == 0
    code, out_text, _ = run(capsys, "verify", old_pdf)
    assert code == 1
    assert out_text.startswith("superseded by version 2")


def test_a_re_run_without_the_retired_key_refuses_to_re_seal(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = workspace / "out"
    assert _certify(capsys, SERIES_2020, out)[0] == 0
    before = _files(out)
    _, retired = rotate_key(workspace / "keys" / "signing.key", key_id="second")
    retired.unlink()  # lost, or never copied to this machine

    code, err = _certify(capsys, SERIES_2020, out)
    assert code == 1
    assert_one_line_error(err, naming="key 'test'")
    assert "test.key" in err
    assert _files(out) == before  # nothing re-sealed with the new key
    code, out_text, _ = run(
        capsys, "verify", out / json.loads(before["manifest.json"])["certificates"][0]["file"]
    )
    assert code == 1
    assert out_text.startswith("wrong-key")


def test_retired_keys_are_found_by_id_beside_the_signing_key(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    first = create_key(path, key_id="k1")
    rotate_key(path, key_id="k2")
    rotate_key(path, key_id="k3")
    assert [k.key_id for k in load_retired_keys(path)] == ["k1", "k2"]
    assert retired_key(path, "k1") == first
    assert retired_key(path, "nope") is None
    assert retired_key(path, "../signing") is None  # an id is never a path
    # Keys are known by the id inside the file, never by its name.
    (tmp_path / "k2.key").rename(tmp_path / "k9.key")
    assert retired_key(path, "k9") is None
    assert retired_key(path, "k2") is not None
    assert [k.key_id for k in load_retired_keys(path)] == ["k1", "k2"]
