"""The command line of PDF signing: `keys signing-cert`, certify signing with the key it made
(or one named in the settings file), verify showing and checking the signature with the
ledger, and one-line errors for a society's mistakes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from balint_cme.certificates.keys import create_key
from balint_cme.cli import main
from tests.conftest import EXAMPLES, ROOT

SERIES = str(EXAMPLES / "ssvms-balint-2020.toml")
REPORTS = [str(EXAMPLES / "reports" / f"zoom-session-{n}.csv") for n in range(1, 6)]
ORGANIZATION = "Fictional Medical Society"

pytestmark = pytest.mark.slow  # end to end: the real command, ledger and renderer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ledger and keys, so no test touches the user's real ones."""
    monkeypatch.setenv("BALINT_CME_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("BALINT_CME_KEY_FILE", str(tmp_path / "keys" / "signing.key"))
    monkeypatch.setenv("BALINT_CME_CACHE_DIR", str(ROOT / ".venv" / "balint-cme-cache"))
    for name in ("SIGNING_KEY", "SIGNING_CERT", "SIGNING_PASSPHRASE", "TIMESTAMP_URL"):
        monkeypatch.delenv(f"BALINT_CME_{name}", raising=False)
    create_key(tmp_path / "keys" / "signing.key", key_id="test")
    return tmp_path


def _certify(capsys: pytest.CaptureFixture[str], out: Path, *extra: str) -> tuple[str, str]:
    code, stdout, err = run(
        capsys, "certify", SERIES, "--attendance", *REPORTS, "--out", str(out),
        "--issued-on", "2021-01-20", *extra,
    )  # fmt: skip
    assert code == 0, err
    return stdout, err


def _first(out: Path) -> Path:
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return out / str(manifest["certificates"][0]["file"])


def test_signing_cert_then_certify_signs_and_verify_shows_it(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "keys", "signing-cert", "--organization", ORGANIZATION)
    assert code == 0
    key = workspace / "keys" / "pdf-signing-key.pem"
    assert key.is_file()
    assert os.stat(key).st_mode & 0o077 == 0
    assert "validity unknown" in out
    _certify(capsys, workspace / "certificates")
    pdf = _first(workspace / "certificates")
    code, out, _ = run(capsys, "verify", str(pdf))
    assert code == 0, out
    assert "PDF signature (PAdES B-B)" in out
    assert ORGANIZATION in out
    assert "the society's certificate" in out
    code, out, _ = run(capsys, "verify", str(pdf), "--json")
    document = json.loads(out)
    assert (code, document["status"]) == (0, "valid")
    assert document["signature"]["society"] is True
    assert document["signature"]["level"] == "B-B"


def _all_bytes(out_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out_dir.glob("*.pdf"))}


def test_certify_again_keeps_each_signed_file_as_issued(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A signature carries its time, so drawing an unchanged certificate again would give new
    bytes; a re-run keeps the file the physician received, the one whose SHA-256 the ledger
    recorded, and verify finds it exactly as issued."""
    run(capsys, "keys", "signing-cert", "--organization", ORGANIZATION)
    out_dir = workspace / "certificates"
    _certify(capsys, out_dir)
    first = _all_bytes(out_dir)
    stdout, _ = _certify(capsys, out_dir)
    assert "re-drawn with different bytes" not in stdout
    assert _all_bytes(out_dir) == first
    code, out, _ = run(capsys, "verify", str(_first(out_dir)))
    assert code == 0, out
    assert "differ from the file recorded" not in out


def test_certify_again_replaces_a_file_that_is_not_the_one_issued(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the issued bytes are kept: a file changed in the folder is drawn and signed anew,
    with the same page, and verifies."""
    run(capsys, "keys", "signing-cert", "--organization", ORGANIZATION)
    out_dir = workspace / "certificates"
    _certify(capsys, out_dir)
    target = _first(out_dir)
    issued = target.read_bytes()
    target.write_bytes(issued[:-1] + b" ")  # damaged in the folder
    _certify(capsys, out_dir)
    again = target.read_bytes()
    assert again not in (issued, issued[:-1] + b" ")
    code, out, _ = run(capsys, "verify", str(target))
    assert code == 0, out
    assert "the page is one the ledger recorded" in out


def test_another_societys_signature_is_not_valid_with_the_ledger(
    workspace: Path, capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    run(capsys, "keys", "signing-cert", "--organization", ORGANIZATION)
    _certify(capsys, workspace / "certificates")
    pdf = _first(workspace / "certificates")
    other = tmp_path_factory.mktemp("other")
    run(
        capsys, "keys", "signing-cert", "--organization", ORGANIZATION,
        "--key-out", str(other / "k.pem"), "--cert-out", str(other / "c.pem"),
    )  # fmt: skip
    code, out, _ = run(capsys, "verify", str(pdf), "--signing-cert", str(other / "c.pem"))
    assert code == 1
    assert out.startswith("wrong-key: signed by")


def test_no_sign_and_unsigned_societies_keep_unsigned_certificates(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _certify(capsys, workspace / "plain")  # no signing key anywhere: unsigned, as before
    assert b"/ByteRange" not in _first(workspace / "plain").read_bytes()
    run(capsys, "keys", "signing-cert", "--organization", ORGANIZATION)
    _certify(capsys, workspace / "unsigned", "--no-sign")
    assert b"/ByteRange" not in _first(workspace / "unsigned").read_bytes()
    code, out, _ = run(capsys, "verify", str(_first(workspace / "unsigned")), "--json")
    assert (code, json.loads(out)["signature"]) == (0, None)


def test_the_settings_file_names_the_signing_key(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    society = workspace / "society"
    society.mkdir()
    (society / "balint-cme.toml").write_text(
        'signing_key = "keys/society-key.pem"\nsigning_cert = "keys/society-cert.pem"\n',
        encoding="utf-8",
    )
    settings = str(society / "balint-cme.toml")
    code, _, err = run(
        capsys, "--settings", settings, "keys", "signing-cert", "--organization", ORGANIZATION
    )
    assert code == 0, err
    assert (society / "keys" / "society-key.pem").is_file()
    code, _, err = run(
        capsys, "--settings", settings, "certify", SERIES, "--attendance", *REPORTS,
        "--out", str(workspace / "out"), "--issued-on", "2021-01-20",
    )  # fmt: skip
    assert code == 0, err
    pdf = str(_first(workspace / "out"))
    code, out, _ = run(capsys, "--settings", settings, "verify", pdf, "--json")
    assert json.loads(out)["signature"]["society"] is True
    code, out, _ = run(capsys, "verify", pdf, "--json")  # no certificate given: not checked
    assert json.loads(out)["signature"]["society"] is False
    assert code == 0


def test_a_loose_signing_key_is_one_line_and_nothing_is_written(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "keys", "signing-cert", "--organization", ORGANIZATION)
    os.chmod(workspace / "keys" / "pdf-signing-key.pem", 0o644)
    code, _out, err = run(
        capsys, "certify", SERIES, "--attendance", *REPORTS, "--out", str(workspace / "out"),
    )  # fmt: skip
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "chmod 600" in err
    assert not (workspace / "out").exists()
    assert not (workspace / "ledger.sqlite3").exists()


def test_signing_cert_never_overwrites(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keys", "signing-cert", "--organization", ORGANIZATION)
    before = (workspace / "keys" / "pdf-signing-key.pem").read_bytes()
    code, _, err = run(capsys, "keys", "signing-cert", "--organization", "Other")
    assert code == 1
    assert "never overwritten" in err
    assert (workspace / "keys" / "pdf-signing-key.pem").read_bytes() == before


class _TimestampAuthority:
    """An RFC 3161 authority on 127.0.0.1, answering with pyHanko's test time stamper."""

    def __init__(self, folder: Path) -> None:
        import http.server
        import threading

        from asn1crypto import tsp

        from tests.certificates.test_pdf_signing import _test_timestamper

        stamper: Any = _test_timestamper(folder)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def test_timestamp_url_gives_b_t_and_verify_shows_the_time(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    authority = _TimestampAuthority(workspace)
    try:
        run(capsys, "keys", "signing-cert", "--organization", ORGANIZATION)
        _certify(capsys, workspace / "certificates", "--timestamp-url", authority.url)
    finally:
        authority.close()
    pdf = _first(workspace / "certificates")
    code, out, _ = run(capsys, "verify", str(pdf))
    assert code == 0, out
    assert "PDF signature (PAdES B-T)" in out
    assert "by CN=Test Timestamp Authority" in out
    code, out, _ = run(capsys, "verify", str(pdf), "--json")
    assert json.loads(out)["signature"]["timestamped_at"] is not None


def test_an_unreachable_timestamp_authority_fails_before_anything_is_written(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run(capsys, "keys", "signing-cert", "--organization", ORGANIZATION)
    code, _, err = run(
        capsys, "certify", SERIES, "--attendance", *REPORTS, "--out", str(workspace / "out"),
        "--timestamp-url", f"http://127.0.0.1:{port}/",
    )  # fmt: skip
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "timestamp authority" in err
    assert not (workspace / "out").exists()
    assert not (workspace / "ledger.sqlite3").exists()
