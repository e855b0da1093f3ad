"""The static verification site: a folder any static host can serve, written by
`balint-cme publish --out site/`.

    site/index.html, verify.js, verify.css   the verify page (reads the code from the URL)
    site/c/<name>.json                       one per certificate version, named by a hash of
                                             its verification code
    site/p/<name>.json                       one per issued PDF, named by a hash of its SHA-256

Each small file holds the same public answer as the web app's JSON API (status and the sealed
claims), encrypted with AES-256-GCM under a key derived from the code (or from the PDF's
SHA-256). So the folder lists no code, and even a host that lists its folders, or someone who
downloads every file, learns no name: only the holder of a code (120 unguessable bits) or of
the PDF can read its answer. File names and keys come from SHA-256 with different labels, so a
name reveals nothing of its key; the nonce is derived from the key and the content, so an
unchanged answer gives identical bytes and a re-run rewrites only what changed.

Publishing is atomic: the new site is built beside `out` (unchanged files hard-linked from the
old site, so their dates stay), then swapped in with two renames; the old site is removed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from balint_cme.certificates.keys import KeyRing
from balint_cme.errors import BalintCmeError, OutputWriteError
from balint_cme.ledger import Ledger
from balint_cme.model import DomainModel
from balint_cme.storage import atomic_directory
from balint_cme.web.answers import answer_document, answer_for_record

__all__ = [
    "SITE_FORMAT",
    "PublishResult",
    "answer_file_name",
    "encrypt_answer",
    "pdf_file_name",
    "publish_site",
]

SITE_FORMAT = "balint-cme-site/1"
_PAGE_FILES = ("index.html", "verify.js", "verify.css")


class PublishResult(DomainModel):
    """What publish_site() did."""

    out: Path
    certificates: int
    """Answer files for certificate versions (one per code)."""
    pdfs: int
    """Answer files for issued PDFs (one per SHA-256)."""
    written: int
    """Files new or changed since the last publish."""
    unchanged: int
    removed: int


def _derive(label: str, secret: str) -> bytes:
    return hashlib.sha256(f"{SITE_FORMAT} {label}\n{secret}".encode()).digest()


def answer_file_name(code: str) -> str:
    """The file (under c/) holding the answer for a canonical verification code."""
    return _derive("name", code).hex()[:32] + ".json"


def pdf_file_name(pdf_sha256: str) -> str:
    """The file (under p/) holding the answer for a PDF with this SHA-256 (lower-case hex)."""
    return _derive("pdf-name", pdf_sha256.lower()).hex()[:32] + ".json"


def encrypt_answer(secret_label: str, secret: str, document: dict[str, Any]) -> bytes:
    """The file bytes: `document` as JSON, AES-256-GCM under a key derived from `secret`."""
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415
    except ImportError as err:  # pragma: no cover - the web extra installs it
        raise BalintCmeError(
            "publishing needs the cryptography package: pip install 'balint-cme[web]'"
        ) from err
    key = _derive(secret_label, secret)
    plaintext = json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
    # Deterministic nonce: the same key and content give the same bytes (never another content
    # under the same nonce), so unchanged answers are unchanged files.
    nonce = hmac.new(key, plaintext, hashlib.sha256).digest()[:12]
    sealed = AESGCM(key).encrypt(nonce, plaintext, SITE_FORMAT.encode())
    record = {
        "format": SITE_FORMAT,
        "nonce": base64.b64encode(nonce).decode(),
        "data": base64.b64encode(sealed).decode(),
    }
    return (json.dumps(record, sort_keys=True) + "\n").encode()


def _site_files(ledger: Ledger, keys: KeyRing) -> Iterator[tuple[str, bytes]]:
    package = resources.files("balint_cme.web")
    for name in _PAGE_FILES:
        folder = "static" if name.endswith(".css") else "site"  # one stylesheet for both ways
        yield name, (package / folder / name).read_bytes()
    for record in ledger.certificates():
        code = record.verification_code
        if code is None or record.state == "pending":
            continue
        answer = answer_for_record(ledger, record, keys)
        if answer.status == "unknown":
            continue
        document = answer_document(answer)
        yield f"c/{answer_file_name(code)}", encrypt_answer("key", code, document)
        if record.pdf_sha256 is not None and "#page=" not in (record.file_name or ""):
            yield (
                f"p/{pdf_file_name(record.pdf_sha256)}",
                encrypt_answer("pdf-key", record.pdf_sha256.lower(), document),
            )


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def publish_site(ledger: Ledger, keys: KeyRing, out: Path) -> PublishResult:
    """Write (or update) the static verification site for every certificate in `ledger`.

    Raises:
        OutputWriteError: `out` is a file, or the site cannot be written.
    """
    if out.exists() and not out.is_dir():
        raise OutputWriteError(out, "is not a folder; --out names the folder for the site")
    files = dict(_site_files(ledger, keys))
    written = unchanged = 0
    try:
        with atomic_directory(out) as staging:
            for relative, data in sorted(files.items()):
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                old = out / relative
                if _same(old, data):
                    os.link(old, target)
                    unchanged += 1
                else:
                    target.write_bytes(data)
                    written += 1
            previous = (
                {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
                if out.is_dir()
                else set()
            )
            removed = len(previous - set(files))
    except OSError as err:
        raise OutputWriteError(out, f"cannot write the site: {err.strerror or err}") from err
    codes = sum(1 for name in files if name.startswith("c/"))
    pdfs = sum(1 for name in files if name.startswith("p/"))
    return PublishResult(
        out=out,
        certificates=codes,
        pdfs=pdfs,
        written=written,
        unchanged=unchanged,
        removed=removed,
    )
