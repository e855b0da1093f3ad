"""Which key files `verify` trusts: the keys beside the signing key are known by the key id
inside each file (never by its name); copies of one key are harmless; a file there that is not
a key is passed over with a note; a key file of another user is refused."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from balint_cme.certificates.keys import (
    create_key,
    load_key,
    load_key_folder,
    retired_key,
    rotate_key,
)
from balint_cme.errors import VerificationError
from tests.command_helpers import isolate, run, write_roster

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow


@pytest.fixture
def certified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """A workspace with one issued certificate; returns its PDF."""
    isolate(tmp_path, monkeypatch)
    series, sheet = write_roster(tmp_path / "in", ["Ana Ruiz"])
    out = tmp_path / "out"
    code, _, err = run(capsys, "certify", series, "--attendance", sheet, "--out", out)
    assert code == 0, err
    listed = json.loads((out / "manifest.json").read_text("utf-8"))["certificates"]
    return out / str(listed[0]["file"])


def test_a_backup_copy_beside_the_signing_key_does_not_break_verify(
    certified: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = certified.parent.parent / "keys"
    shutil.copy2(keys / "signing.key", keys / "signing-backup.key")  # cp -p
    code, stdout, stderr = run(capsys, "verify", certified)
    assert (code, stdout.splitlines()[0]) == (0, "valid"), stdout + stderr
    assert stderr == ""


def test_a_file_beside_the_signing_key_that_is_not_a_key_is_skipped_with_a_note(
    certified: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = certified.parent.parent / "keys"
    notes = keys / "notes.key"
    notes.write_text("remember to back up the key\n", encoding="utf-8")
    os.chmod(notes, 0o600)
    code, stdout, stderr = run(capsys, "verify", certified)
    assert (code, stdout.splitlines()[0]) == (0, "valid")
    assert stderr.count("\n") == 1
    assert f"skipped {notes}" in stderr


def test_a_retired_key_under_any_file_name_verifies_its_certificates(
    certified: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = certified.parent.parent / "keys"
    _, retired = rotate_key(keys / "signing.key", key_id="second")
    retired.rename(keys / "old-key-from-2021.key")
    code, stdout, _ = run(capsys, "verify", certified)
    assert (code, stdout.splitlines()[0]) == (0, "valid")
    assert retired_key(keys / "signing.key", "test") == load_key(keys / "old-key-from-2021.key")


def test_two_different_keys_under_one_id_are_refused_naming_both_files(
    certified: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = certified.parent.parent / "keys"
    create_key(keys / "impostor.key", key_id="test")  # the signing key's id, another secret
    code, stdout, stderr = run(capsys, "verify", certified)
    assert (code, stdout) == (3, "")  # could not check: which key is the provider's?
    assert "two different keys share the key id 'test'" in stderr
    assert str(keys / "impostor.key") in stderr
    assert str(keys / "signing.key") in stderr


def test_the_key_folder_rule_keeps_each_key_once(tmp_path: Path) -> None:
    signing = create_key(tmp_path / "signing.key", key_id="k2")
    old = create_key(tmp_path / "k1.key", key_id="k1")
    shutil.copy2(tmp_path / "k1.key", tmp_path / "k1-copy.key")
    (tmp_path / "README.key").write_bytes(b"\x00\xff")
    os.chmod(tmp_path / "README.key", 0o600)
    ring, notes = load_key_folder(tmp_path / "signing.key")
    assert ring.key_ids == ("k1", "k2")
    assert ring.get("k1") == old
    assert ring.get("k2") == signing
    assert len(notes) == 1
    assert "README.key" in notes[0]


def test_a_key_readable_by_others_beside_the_signing_key_is_still_refused(
    tmp_path: Path,
) -> None:
    create_key(tmp_path / "signing.key", key_id="k2")
    create_key(tmp_path / "k1.key", key_id="k1")
    os.chmod(tmp_path / "k1.key", 0o644)
    with pytest.raises(VerificationError, match=r"chmod 600 .*k1\.key"):
        load_key_folder(tmp_path / "signing.key")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root to chown")
def test_a_key_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    create_key(path, key_id="k1")
    os.chown(path, 4242, 4242)  # mode 0600, but another user's: they can swap the key
    with pytest.raises(VerificationError, match="belongs to another user"):
        load_key(path)
    os.chown(path, 0, 0)  # root's own file is accepted (as OpenSSH accepts it)
    assert load_key(path).key_id == "k1"
