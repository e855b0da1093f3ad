"""The words of the certificate page come from one place: what the page prints, what the
verifier says it prints (`printed_claims`) and what the public answer states are the same
text; the pure modules (content, seal, words) load no PDF or drawing library."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from balint_cme import Series
from balint_cme.certificates.pdf import render_pdf
from balint_cme.certificates.verification import printed_claims
from balint_cme.web.answers import public_claims
from tests.certificate_helpers import certificate_for, flat, page_text

SOURCE = Path(__file__).resolve().parents[2] / "src" / "balint_cme"


@pytest.mark.parametrize("participant", ["p01", "p02", "p03"])  # 5.0 credits, 1.75, participation
def test_the_page_shows_exactly_what_printed_claims_and_the_public_answer_say(
    series_2020: Series, participant: str
) -> None:
    certificate = certificate_for(series_2020, participant)
    text = flat(page_text(render_pdf(certificate)))
    shown = printed_claims(certificate.claims, certificate.verification_code)
    assert ("credits" in shown) == (certificate.kind == "credit")
    assert ("hours" in shown) == (certificate.kind == "participation")
    for claim, value in shown.items():
        assert flat(value) in text, claim
    answer = public_claims(certificate.claims)
    for value in (answer.award, answer.designated_maximum, answer.session_dates_text):
        assert flat(value) in text
    assert answer.issued_on_text == shown["issued_on"]
    if certificate.kind == "credit":
        assert answer.award == shown["credits"]
        assert f"and is awarded {shown['credits']}." in text
    else:
        assert f"for {answer.award}." in text
    # The designation statement states the same designated maximum as the checks.
    assert shown["designated_maximum"] in certificate.designation_statement


# Phrases the page prints; each is written in exactly one module (certificates/wording.py).
PHRASES = [
    "This certifies that",
    "has participated in the",
    "in joint providership with",
    "and is awarded",
    "This certificate awards no ",
    "Sessions attended: ",
    "Verification code: ",
    "Date of issue: ",
    "Verify at ",
    "Certificate of Credit",
    "Certificate of credit",
]


@pytest.mark.parametrize("phrase", PHRASES)
def test_each_phrase_of_the_page_is_written_once_in_the_source(phrase: str) -> None:
    found = [
        path.relative_to(SOURCE).as_posix()
        for path in sorted(SOURCE.rglob("*.py"))
        if re.search(r"[\"']" + re.escape(phrase), path.read_text(encoding="utf-8"))
        or re.search(re.escape(phrase) + r"[\"']", path.read_text(encoding="utf-8"))
    ]
    assert found == ["certificates/wording.py"]


def test_content_seal_and_words_load_no_pdf_drawing_or_font_library() -> None:
    # A fresh interpreter: what importing the pure modules loads, and nothing the tests loaded.
    code = (
        "import sys\n"
        "import balint_cme.certificates.content, balint_cme.certificates.seal\n"
        "import balint_cme.certificates.wording\n"
        "heavy = ('pypdf', 'pikepdf', 'reportlab', 'segno', 'fontTools', 'uharfbuzz', 'PIL')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
