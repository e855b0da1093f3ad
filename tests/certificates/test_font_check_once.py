"""Every certificate's characters are checked against the fonts once, whichever way it is
drawn (one PDF, many pages, a batch of files or one merged PDF), and a batch still fails
with UnrenderableTextError naming the person, field and characters, before any file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from balint_cme import Series
from balint_cme.certificates.batch import render_batch
from balint_cme.certificates.content import Certificate
from balint_cme.certificates.fontset import FontSet
from balint_cme.certificates.pdf import render_pages, render_pdf
from balint_cme.certificates.wording import Style, drawn_texts
from balint_cme.errors import UnrenderableTextError
from tests.certificate_helpers import TEST_KEY, certificate_for, renamed

CJK_NAME = "山田太郎"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """(text, style) -> how often the fonts were asked whether they draw it."""
    counted: Counter[tuple[str, str]] = Counter()
    original = FontSet.missing

    def missing(self: FontSet, text: str, style: Style) -> tuple[str, ...]:
        counted[(text, style)] += 1
        return original(self, text, style)

    monkeypatch.setattr(FontSet, "missing", missing)
    return counted


def _certificates(series: Series) -> list[Certificate]:
    return [
        certificate_for(series, person, number=f"ONCE-{index}")
        for index, person in enumerate(("p01", "p02", "p03"))
    ]


def _expected(certificates: list[Certificate]) -> Counter[tuple[str, str]]:
    return Counter(
        (text, style) for certificate in certificates for _, text, style in drawn_texts(certificate)
    )


@pytest.mark.parametrize("merged", [False, True])
def test_a_batch_checks_each_certificate_once(
    series_2020: Series, tmp_path: Path, checks: Counter[tuple[str, str]], merged: bool
) -> None:
    certificates = _certificates(series_2020)
    render_batch(certificates, tmp_path, workers=1, merged=merged, chunk_size=2, key=TEST_KEY)
    assert checks == _expected(certificates)


def test_a_batch_checked_by_its_caller_is_not_checked_again(
    series_2020: Series, tmp_path: Path, checks: Counter[tuple[str, str]]
) -> None:
    certificates = _certificates(series_2020)
    render_batch(certificates, tmp_path, workers=1, key=TEST_KEY, fonts_checked=True)
    assert checks == Counter()
    assert len(list(tmp_path.glob("*.pdf"))) == 3


def test_one_pdf_and_many_pages_check_each_certificate_once(
    series_2020: Series, checks: Counter[tuple[str, str]]
) -> None:
    certificates = _certificates(series_2020)
    render_pdf(certificates[0], key=TEST_KEY)
    assert checks == _expected(certificates[:1])
    checks.clear()
    render_pages(certificates)
    assert checks == _expected(certificates)


@pytest.mark.parametrize("merged", [False, True])
def test_a_batch_still_names_the_unrenderable_person_before_any_file(
    series_2020: Series, tmp_path: Path, merged: bool
) -> None:
    good = certificate_for(series_2020, "p01", number="ONCE-1")
    bad = certificate_for(renamed(series_2020, CJK_NAME), "p02", number="ONCE-2")
    with pytest.raises(UnrenderableTextError) as caught:
        render_batch([bad, good], tmp_path, workers=2, merged=merged, key=TEST_KEY)
    assert caught.value.field == "name"
    assert caught.value.characters == tuple(CJK_NAME)
    assert f"certificate ONCE-2 for {CJK_NAME} (p02): name:" in str(caught.value)
    assert list(tmp_path.iterdir()) == []
