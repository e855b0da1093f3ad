"""Certificates that point to the verify site: the QR code holds the full URL in the fewest
bits, the URL is printed and is the page's one link annotation, and no URL keeps the old QR."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from balint_cme import Series
from balint_cme.certificates.content import verify_url_template
from balint_cme.certificates.pdf import render_pdf
from balint_cme.certificates.qr import qr_segments, qr_symbol
from balint_cme.errors import CertificateError
from tests.certificate_helpers import certificate_for

URL_CHARS = st.sampled_from(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./:#?=_%"
)


def test_a_serve_address_becomes_the_short_path_and_a_template_is_kept() -> None:
    assert verify_url_template("https://cme.example.org/") == "https://cme.example.org/v/{code}"
    assert verify_url_template("https://x.org/verify/#{code}") == "https://x.org/verify/#{code}"
    for bad in ("cme.example.org", "ftp://x.org", "https://x.org/a b", "javascript:alert(1)"):
        with pytest.raises(CertificateError):
            verify_url_template(bad)


def test_the_qr_code_holds_the_url_with_host_and_code_in_upper_case(series_2020: Series) -> None:
    certificate = certificate_for(
        series_2020, verify_url_template="https://cme.example.org/v/{code}"
    )
    code = certificate.verification_code
    assert certificate.verify_url == f"https://cme.example.org/v/{code}"
    assert certificate.qr_payload == f"HTTPS://CME.EXAMPLE.ORG/v/{code.upper()}"
    assert all(
        mode == "alphanumeric" or text == "v" for text, mode in qr_segments(certificate.qr_payload)
    )


def test_the_codes_alphabet_fits_qr_alphanumeric_mode(series_2020: Series) -> None:
    # Key ids made by the library are "k" + hex; the code part is base32 in dashed groups.
    from balint_cme.certificates.keys import SigningKey

    key = SigningKey.generate()
    certificate = certificate_for(series_2020, key=key)
    assert [mode for _, mode in qr_segments(certificate.verification_code.upper())] == [
        "alphanumeric"
    ]


@pytest.mark.parametrize(
    ("url", "mixed_version", "byte_version"),
    [
        # Measured: the fewest-bit segments give version 4 (33 x 33 modules) where byte mode
        # for the whole URL needs version 5 (37 x 37).
        ("https://cme.example.org/v/{code}", 4, 5),
        ("https://example.org/verify/#{code}", 4, 5),
        ("https://cme.example.org/verify?code={code}", 4, 5),
    ],
)
def test_measured_qr_versions_for_typical_verify_urls(
    series_2020: Series, url: str, mixed_version: int, byte_version: int
) -> None:
    from balint_cme.certificates.keys import SigningKey

    certificate = certificate_for(
        series_2020, key=SigningKey("k1a2b3c4d", bytes(32)), verify_url_template=url
    )
    assert qr_symbol(certificate.qr_payload).version == mixed_version
    assert qr_symbol(certificate.verify_url or "", mixed=False).version == byte_version


@given(st.text(URL_CHARS, min_size=1, max_size=120))
def test_mixed_segments_are_never_larger_than_one_mode(payload: str) -> None:
    segments = qr_segments(payload)
    assert "".join(text for text, _ in segments) == payload
    assert qr_symbol(payload).version <= qr_symbol(payload, mixed=False).version


def test_the_url_is_printed_and_is_the_pages_one_link(series_2020: Series) -> None:
    certificate = certificate_for(
        series_2020, verify_url_template="https://cme.example.org/v/{code}"
    )
    reader = PdfReader(io.BytesIO(render_pdf(certificate)))
    page = reader.pages[0]
    assert f"Verify at {certificate.verify_url}" in (page.extract_text() or "")
    annotations = [a.get_object() for a in page.get("/Annots", [])]
    assert len(annotations) == 1
    link = annotations[0]
    assert link["/Subtype"] == "/Link"
    assert link["/A"]["/S"] == "/URI"
    assert link["/A"]["/URI"] == certificate.verify_url


def test_without_a_url_the_qr_holds_the_code_and_there_is_no_link(series_2020: Series) -> None:
    certificate = certificate_for(series_2020, verify_url_template=None)
    assert certificate.qr_payload == certificate.verification_code
    page = PdfReader(io.BytesIO(render_pdf(certificate))).pages[0]
    assert "/Annots" not in page
    assert "To verify, give this code to the provider" in (page.extract_text() or "")
