"""Builders for certificate tests: a fixed test key, a certificate from the 2020 series, and
text extraction with pypdf."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date

from pypdf import PdfReader

from balint_cme import AttendanceRegister, CreditAward, Series, award_credit
from balint_cme.certificates.content import Certificate, build_certificate
from balint_cme.certificates.keys import SigningKey
from tests.conftest import attend

TEST_KEY = SigningKey("test-key", bytes(range(32)))
"""A fixed key so that tests are repeatable; never a real provider's key."""
OTHER_KEY = SigningKey("other-key", bytes(range(1, 33)))
ISSUED_ON = date(2021, 1, 20)


def register_2020(series: Series) -> AttendanceRegister:
    """Ana (MD) attends all five; Zoë (DO) sessions 1 (45 min) and 3; Grace (NP) session 2."""
    return AttendanceRegister(
        [
            *(attend(series, "p01", n, 0, 60) for n in range(1, 6)),
            attend(series, "p02", 1, 0, 45),
            attend(series, "p02", 3, -5, 70),
            attend(series, "p03", 2, 0, 60),
        ]
    )


def award_for(series: Series, participant_id: str) -> CreditAward:
    """The award of one 2020 participant under register_2020."""
    return award_credit(series, register_2020(series), participant_id)


def certificate_for(
    series: Series,
    participant_id: str = "p02",
    *,
    number: str = "FMMS-2020-0002",
    key: SigningKey = TEST_KEY,
    verify_url_template: str | None = "https://cme.example.org/verify?code={code}",
) -> Certificate:
    """A sealed certificate for one participant of the 2020 series."""
    return build_certificate(
        series,
        award_for(series, participant_id),
        number=number,
        issued_on=ISSUED_ON,
        key=key,
        verify_url_template=verify_url_template,
    )


def renamed(series: Series, name: str, participant_id: str = "p02") -> Series:
    """The series with one participant renamed."""
    roster = tuple(
        p.evolve(name=name) if p.id == participant_id else p for p in series.participants
    )
    return series.evolve(participants=roster)


def page_text(pdf: bytes, page: int = 0) -> str:
    """The text pypdf extracts from one page, in NFC."""
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", reader.pages[page].extract_text())


def flat(text: str) -> str:
    """Whitespace runs (line breaks included) as single spaces."""
    return re.sub(r"\s+", " ", text).strip()
