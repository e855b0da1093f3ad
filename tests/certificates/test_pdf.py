"""The certificate PDF read back with pypdf: every required element, the exact statements,
names in any Latin, Greek or Cyrillic script, literal markup, fitting, identical bytes."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from balint_cme import Series
from balint_cme.certificates.content import Certificate
from balint_cme.certificates.layout import DEFAULT_LAYOUT
from balint_cme.certificates.pdf import render_pages, render_pdf, text_boxes
from balint_cme.certificates.verification import METADATA_KEY
from tests.certificate_helpers import certificate_for, flat, page_text, renamed

NAMES = [
    "Zoë Ångström",
    "Nguyễn Thị Minh Anh",
    "Tomasz Wiśniewski",
    "Αθηνά Παπαδοπούλου",
    "Ольга Смирнова",
    "Şükrü Çağlayan",
    "Łucja Żółkiewska",
    "Þórunn Guðmundsdóttir",
]


@pytest.fixture(scope="module")
def credit_pdf(series_2020: Series) -> bytes:
    return render_pdf(certificate_for(series_2020, "p02"))


@pytest.fixture(scope="module")
def credit_text(credit_pdf: bytes) -> str:
    return flat(page_text(credit_pdf))


@pytest.mark.parametrize(
    "element",
    [
        "Fresno Madera Medical Society",
        "in joint providership with Sierra Sacramento Valley Medical Society",
        "CERTIFICATE OF CREDIT",
        "This certifies that",
        "Zoë Ångström, DO",
        "has participated in the live activity",
        "2020 Balint Group",
        "Location: Online (live, virtual)",
        "Sessions attended: September 9 and November 11, 2020",
        "and is awarded 1.75 AMA PRA Category 1 Credits™.",
        "Rochelle Frank, MD",
        "Marissa Pierce, MFT",
        "Facilitator",
        "Date of issue: January 20, 2021",
        "Certificate no. FMMS-2020-0002",
    ],
)
def test_credit_certificate_shows_each_required_element(credit_text: str, element: str) -> None:
    assert element in credit_text


def test_credit_certificate_shows_the_exact_designation_statement(credit_text: str) -> None:
    assert (
        "The Fresno Madera Medical Society designates this live activity for a maximum of 5.0 "
        "AMA PRA Category 1 Credit(s)™. Physicians should claim only the credit commensurate "
        "with the extent of their participation in the activity."
    ) in credit_text


def test_credit_certificate_shows_the_exact_accreditation_statement(credit_text: str) -> None:
    assert (
        "This activity has been planned and implemented in accordance with the accreditation "
        "requirements and policies of the California Medical Association (CMA) through the "
        "joint providership of Fresno Madera Medical Society and Sierra Sacramento Valley "
        "Medical Society. Fresno Madera Medical Society is accredited by the CMA to provide "
        "continuing medical education for physicians."
    ) in credit_text


def test_direct_accreditation_statement_is_printed(series_2020: Series) -> None:
    series = series_2020.evolve(provider=series_2020.provider.evolve(joint=()))
    text = flat(page_text(render_pdf(certificate_for(series))))
    assert (
        "Fresno Madera Medical Society is accredited by the California Medical Association "
        "(CMA) to provide continuing medical education for physicians."
    ) in text
    assert "joint providership" not in text


def test_certificate_shows_verification_code_and_url(series_2020: Series) -> None:
    certificate = certificate_for(series_2020)
    text = flat(page_text(render_pdf(certificate)))
    assert f"Verification code: {certificate.verification_code}" in text
    assert f"Verify at {certificate.verify_url}" in text


def test_participation_certificate_states_hours_and_no_credit(series_2020: Series) -> None:
    text = flat(page_text(render_pdf(certificate_for(series_2020, "p03"))))
    assert "CERTIFICATE OF PARTICIPATION" in text
    assert "Grace Lindqvist, NP" in text
    assert "for 1.0 hour of participation." in text
    assert "This certificate awards no AMA PRA Category 1 Credit™." in text
    assert "for a maximum of 5.0 AMA PRA Category 1 Credit(s)™" in text
    assert "Session attended: October 14, 2020" in text
    assert "is awarded" not in text


def _fonts_of_text(pdf: bytes) -> list[tuple[str, str]]:
    pieces: list[tuple[str, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip() and font is not None:
            pieces.append((text, str(font.get("/BaseFont", ""))))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return pieces


def test_awarded_credit_phrase_is_set_in_italics(credit_pdf: bytes) -> None:
    pieces = _fonts_of_text(credit_pdf)
    italic = [text for text, font in pieces if "Italic" in font]
    assert any("AMA PRA Category 1 Credits™" in text for text in italic)
    assert any("AMA PRA Category 1 Credit(s)™" in text for text in italic)
    upright = " ".join(text for text, font in pieces if "Italic" not in font)
    assert "Category 1 Credits" not in upright


def test_every_font_is_embedded_truetype_never_standard_14(credit_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(credit_pdf))
    resources: Any = reader.pages[0]["/Resources"]
    fonts = resources["/Font"]
    assert fonts
    for reference in fonts.values():
        font = reference.get_object()
        assert font["/Subtype"] == "/TrueType"
        assert "/FontFile2" in font["/FontDescriptor"]
        assert "NotoSans" in str(font["/BaseFont"])
    assert b"/Helvetica" not in credit_pdf


@pytest.mark.parametrize("name", NAMES)
def test_non_ascii_names_round_trip(series_2020: Series, name: str) -> None:
    text = flat(page_text(render_pdf(certificate_for(renamed(series_2020, name)))))
    assert f"{name}, DO" in text


def test_markup_in_fields_prints_literally(series_2020: Series) -> None:
    hostile = "<b>&<para>Ana</para> &amp; <font color='red'>x</font>"
    series = renamed(series_2020, hostile).evolve(title="<i>2020</i> Balint & Group <br/>")
    text = flat(page_text(render_pdf(certificate_for(series))))
    assert f"{hostile}, DO" in text
    assert "<i>2020</i> Balint & Group <br/>" in text


def test_rendering_twice_gives_identical_bytes(series_2020: Series) -> None:
    certificate = certificate_for(series_2020)
    assert render_pdf(certificate) == render_pdf(certificate)


def test_different_certificates_give_different_bytes(series_2020: Series) -> None:
    one = render_pdf(certificate_for(series_2020, number="A-1"))
    two = render_pdf(certificate_for(series_2020, number="A-2"))
    assert one != two


def test_pdf_dates_are_the_issue_date_not_the_clock(credit_pdf: bytes) -> None:
    metadata = PdfReader(io.BytesIO(credit_pdf)).metadata
    assert metadata is not None
    assert str(metadata["/CreationDate"]).startswith("D:20210120")


def test_metadata_holds_only_the_claims_and_seal(series_2020: Series, credit_pdf: bytes) -> None:
    metadata = PdfReader(io.BytesIO(credit_pdf)).metadata
    assert metadata is not None
    record = json.loads(str(metadata[METADATA_KEY]))
    assert set(record) == {"format", "claims", "seal"}
    assert record["claims"]["name"] == "Zoë Ångström"
    assert record["claims"]["credits"] == "1.75"
    assert record["claims"]["session_dates"] == ["2020-09-09", "2020-11-11"]
    participant = series_2020.participant("p02")
    assert participant is not None
    assert participant.email is not None
    assert participant.email.encode() not in credit_pdf
    assert participant.email not in json.dumps(dict(metadata))


def _assert_inside_page(certificate: Certificate) -> None:
    width, height = DEFAULT_LAYOUT.page_size
    boxes = text_boxes(certificate)
    assert boxes
    for left, baseline, line_width, size in boxes:
        assert left >= DEFAULT_LAYOUT.margin - 1
        assert left + line_width <= width - DEFAULT_LAYOUT.margin + 1
        assert DEFAULT_LAYOUT.margin - 12 <= baseline <= height - DEFAULT_LAYOUT.margin
        assert size >= 3


def test_long_name_and_title_are_fitted_inside_the_page(series_2020: Series) -> None:
    name = "Maximiliana Alessandra Bartholomew-Featherstonehaugh von Hohenzollern-Sigmaringen " * 3
    title = "An Extended Longitudinal Balint Group for Rural Family Physicians and Residents " * 5
    series = renamed(series_2020, name.strip()).evolve(title=title.strip())
    certificate = certificate_for(series)
    _assert_inside_page(certificate)
    text = flat(page_text(render_pdf(certificate)))
    assert name.strip() in text
    assert title.strip() in text


def test_unbroken_long_word_is_wrapped_not_cut(series_2020: Series) -> None:
    name = "W" * 180
    certificate = certificate_for(renamed(series_2020, name))
    _assert_inside_page(certificate)
    text = page_text(render_pdf(certificate))
    assert "".join(text.split()).count(name) == 1


def test_a_short_name_keeps_the_full_size(series_2020: Series) -> None:
    sizes = [size for _, _, _, size in text_boxes(certificate_for(series_2020))]
    assert DEFAULT_LAYOUT.name_size in sizes


def test_pages_render_many_certificates_in_order(series_2020: Series) -> None:
    certificates = [certificate_for(series_2020, pid, number=f"N-{pid}") for pid in ("p01", "p03")]
    pdf = render_pages(certificates)
    assert "Ana Ruiz, MD" in flat(page_text(pdf, 0))
    assert "Grace Lindqvist, NP" in flat(page_text(pdf, 1))


_any_name = st.text(
    alphabet=st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "äöüßàéèêçñøåæœłśźżńćęąğışçăâîțșđơưễệạảấầẩẫậắằẳẵặ"
        "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΘΛΞΠΣΦΨΩάέήίόύώ"
        "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЖЗИЙЛПФЦЧШЩЭЮЯёЁ"
        "<>&'\"-. "
    ),
    min_size=1,
    max_size=120,
).filter(lambda s: s.strip() != "")


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_any_name, credits_day=st.dates(min_value=date(2021, 1, 14)))
def test_any_valid_certificate_renders_and_its_name_extracts(
    series_2020: Series, name: str, credits_day: date
) -> None:
    certificate = certificate_for(renamed(series_2020, name)).evolve(issued_on=credits_day)
    pdf = render_pdf(certificate)
    assert pdf.startswith(b"%PDF-")
    extracted = "".join(page_text(pdf).split())
    assert "".join(certificate.name.split()) in extracted


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_page_renders_to_png_with_pdftoppm(series_2020: Series, tmp_path: Path) -> None:
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(render_pdf(certificate_for(series_2020)))
    result = subprocess.run(
        ["pdftoppm", "-r", "36", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert (width, height) == (396, 306)  # 11 x 8.5 inches at 36 dpi: landscape Letter


def test_decomposed_and_spaced_names_print_composed_on_one_line(series_2020: Series) -> None:
    decomposed = "Zoe\u0308   A\u030angstro\u0308m"
    text = flat(page_text(render_pdf(certificate_for(renamed(series_2020, decomposed)))))
    assert "Zoë Ångström, DO" in text
