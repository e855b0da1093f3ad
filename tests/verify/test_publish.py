"""The static verification site: answer files named and encrypted by the code, the same answer
as the web app, incremental and atomic publishing."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from balint_cme.cli import main
from balint_cme.ledger import Ledger
from balint_cme.web.answers import answer_document, look_up
from balint_cme.web.publish import SITE_FORMAT, answer_file_name, pdf_file_name, publish_site
from tests.verify.web_support import PRIVATE, Issued, issue_2020


def read_answer(site: Path, folder: str, name: str, label: str, secret: str) -> dict[str, Any]:
    """Decrypt one answer file as the page's JavaScript does."""
    record = json.loads((site / folder / name).read_text("utf-8"))
    key = hashlib.sha256(f"{SITE_FORMAT} {label}\n{secret}".encode()).digest()
    plain = AESGCM(key).decrypt(
        base64.b64decode(record["nonce"]), base64.b64decode(record["data"]), SITE_FORMAT.encode()
    )
    document: dict[str, Any] = json.loads(plain)
    return document


def publish(issued: Issued, site: Path) -> Any:
    with Ledger.open(issued.ledger_path, read_only=True) as ledger:
        return publish_site(ledger, issued.keys, site)


def inodes(site: Path) -> dict[str, int]:
    return {str(p.relative_to(site)): p.stat().st_ino for p in site.rglob("*") if p.is_file()}


def test_the_site_gives_the_same_answer_as_the_api(tmp_path: Path) -> None:
    issued = issue_2020(tmp_path / "ledger")
    site = tmp_path / "site"
    result = publish(issued, site)
    assert result.certificates == len(issued.result.issued) == result.pdfs
    assert {p.name for p in site.iterdir()} == {"index.html", "verify.js", "verify.css", "c", "p"}
    with Ledger.open(issued.ledger_path, read_only=True) as ledger:
        for item in issued.result.issued:
            code = item.verification_code
            expected = answer_document(look_up(ledger, issued.keys, code)[0])
            assert read_answer(site, "c", answer_file_name(code), "key", code) == expected
            by_pdf = read_answer(site, "p", pdf_file_name(item.sha256), "pdf-key", item.sha256)
            assert by_pdf == expected


def test_the_folder_lists_no_code_and_no_personal_data(tmp_path: Path) -> None:
    issued = issue_2020(tmp_path / "ledger")
    site = tmp_path / "site"
    publish(issued, site)
    everything = "\n".join(
        [str(p.relative_to(site)) for p in site.rglob("*")]
        + [p.read_text("utf-8") for p in site.rglob("*.json")]
    )
    for item in issued.result.issued:
        assert item.verification_code not in everything
        assert item.verification_code.split(".")[1] not in everything
        assert item.name not in everything
        assert item.number not in everything
    for secret in PRIVATE.values():
        assert len(secret) < 5 or secret not in everything  # "CA" occurs in base64 by chance


def test_a_republish_after_one_revocation_rewrites_only_that_certificates_files(
    tmp_path: Path,
) -> None:
    issued = issue_2020(tmp_path / "ledger")
    site = tmp_path / "site"
    publish(issued, site)
    before = inodes(site)
    again = publish(issued, site)
    assert again.written == 0
    assert inodes(site) == before
    issued.revoke("p02", "issued to the wrong person")
    result = publish(issued, site)
    after = inodes(site)
    item = next(i for i in issued.result.issued if i.participant_id == "p02")
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {
        f"c/{answer_file_name(item.verification_code)}",
        f"p/{pdf_file_name(item.sha256)}",
    }
    assert result.written == 2
    document = read_answer(
        site, "c", answer_file_name(item.verification_code), "key", item.verification_code
    )
    assert document["status"] == "revoked"
    assert document["revoked"]["reason"] == "issued to the wrong person"


def test_a_failed_publish_leaves_the_previous_site_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = issue_2020(tmp_path / "ledger")
    site = tmp_path / "site"
    publish(issued, site)
    before = {name: (site / name).read_bytes() for name in inodes(site)}
    issued.revoke("p01")
    calls = [0]
    real = Path.write_bytes

    def failing(self: Path, data: bytes) -> int:
        calls[0] += 1
        if calls[0] == 2:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(Exception, match="No space left"):
        publish(issued, site)
    monkeypatch.undo()
    assert {name: (site / name).read_bytes() for name in inodes(site)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger", "site"]  # no staging left


def test_publish_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    issued = issue_2020(tmp_path / "ledger")
    site = tmp_path / "site"
    argv = [
        "publish",
        "--out",
        str(site),
        "--ledger",
        str(issued.ledger_path),
        "--key-file",
        str(issued.key_path),
    ]
    assert main(argv) == 0
    assert "4 certificate answer(s)" in capsys.readouterr().out or (site / "index.html").is_file()
    assert main(argv) == 0
    assert "0 file(s) written" in capsys.readouterr().out
    (tmp_path / "file").write_text("x")
    assert main([*argv[:1], "--out", str(tmp_path / "file"), *argv[3:]]) == 1
    assert "is not a folder" in capsys.readouterr().err
