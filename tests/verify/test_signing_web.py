"""The public web app's PDF upload shows a certificate's PDF signature, and refuses a signed
file that was updated after signing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.annotations import FreeText
from starlette.testclient import TestClient

from balint_cme.certificates.keys import KeyRing
from balint_cme.certificates.signing import (
    create_signing_certificate,
    load_certificates,
    load_signing_identity,
    sign_pdf,
)
from balint_cme.web.app import create_app
from tests.verify.web_support import issue_2020

pytestmark = pytest.mark.slow  # end to end: the real command, ledger and renderer


def test_an_uploaded_signed_certificate_shows_its_signature(tmp_path: Path) -> None:
    issued = issue_2020(tmp_path / "issued")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    create_signing_certificate(key, cert, organization="Fictional Medical Society")
    signed = sign_pdf(load_signing_identity(key, cert), issued.pdf_of("p01").read_bytes())
    keys = KeyRing([issued.key], signing_certificates=load_certificates([cert]))
    client = TestClient(
        create_app(issued.ledger_path, keys, lookups_per_minute=100_000, burst=100_000)
    )
    page = client.post("/verify/pdf", files={"pdf": ("c.pdf", signed, "application/pdf")}).text
    assert "Digitally signed (PAdES B-B) by" in page
    assert "the provider&#39;s signing certificate" in page or "the provider's signing" in page

    writer = PdfWriter(io.BytesIO(signed), incremental=True)
    writer.add_annotation(0, FreeText(text="9.75 credits", rect=(50, 50, 200, 80)))
    buffer = io.BytesIO()
    writer.write(buffer)
    page = client.post(
        "/verify/pdf", files={"pdf": ("c.pdf", buffer.getvalue(), "application/pdf")}
    ).text
    assert "Digitally signed" not in page
    assert "Ana Ruiz" not in page
