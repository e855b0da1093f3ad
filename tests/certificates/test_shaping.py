"""Complex scripts are shaped by HarfBuzz and right-to-left runs ordered by the bidi algorithm.

Each test reads the glyphs actually drawn on the page back from the PDF (the content stream's
text operators, the codes mapped to glyph ids through the font's CIDToGIDMap) and compares
them with HarfBuzz's own shaping of the same string with the same font file, and checks that
pypdf extracts the name through the ToUnicode maps."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import fontpkg_heebo
import pytest
import uharfbuzz as hb
from bidi import get_display
from fontTools.ttLib import TTFont
from fontTools.ttLib.ttCollection import TTCollection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from pypdf.generic import ContentStream

from balint_cme import Series
from balint_cme.certificates.fonts import COMPLEX_SCRIPTS, ScriptFont, script_font
from balint_cme.certificates.glyphs import ShapedFace
from balint_cme.certificates.layout import CertificateLayout, FontSource
from balint_cme.certificates.pdf import check_renderable, render_pdf, text_boxes
from balint_cme.certificates.shaping import visual_runs
from balint_cme.certificates.verification import verify_pdf
from balint_cme.errors import UnrenderableTextError
from tests.certificate_helpers import TEST_KEY, certificate_for, flat, page_text, renamed

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

SCRIPTS = {script.script: script for script in COMPLEX_SCRIPTS}
HEBREW_FONT = Path(fontpkg_heebo.ROOT) / "files" / "Heebo[wght].ttf"

# Fictional people; one name per script, chosen to need shaping (conjuncts, reordered vowel
# signs, joining forms, stacked marks).
NAMES = {
    "Arabic": "ليلى عبد الله",
    "Devanagari": "प्रिया रघुनाथन",
    "Tamil": "கார்த்திக் சுப்பிரமணியன்",
    "Telugu": "శ్రీనివాస్ రెడ్డి",
    "Thai": "สมศรี ใจดี",
    "Khmer": "សុខ ចាន់ធីតា",
}


def _glyph_runs(pdf: bytes) -> list[tuple[str, list[int]]]:
    """(font resource, glyph ids) of every shaped run drawn on page 1, in drawing order."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts: Any = page["/Resources"]["/Font"]  # type: ignore[index]
    cid_to_gid: dict[str, bytes] = {}
    for name, ref in fonts.items():
        font = ref.get_object()
        if font.get("/Subtype") == "/Type0":
            descendant = font["/DescendantFonts"][0].get_object()
            cid_to_gid[name] = descendant["/CIDToGIDMap"].get_object().get_data()
    runs: list[tuple[str, list[int]]] = []
    current = ""
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        if operator == b"Tf":
            current = str(operands[0])
        elif operator in (b"TJ", b"Tj") and current in cid_to_gid:
            items = operands[0] if operator == b"TJ" else [operands[0]]
            gids = []
            for item in items:
                if isinstance(item, (bytes, str)) and not isinstance(item, (int, float)):
                    raw = item if isinstance(item, bytes) else item.original_bytes  # type: ignore[attr-defined]
                    for i in range(0, len(raw), 2):
                        code = int.from_bytes(raw[i : i + 2], "big")
                        gids.append(
                            int.from_bytes(cid_to_gid[current][2 * code : 2 * code + 2], "big")
                        )
            if runs and runs[-1][0] == current:
                runs[-1][1].extend(gids)
            else:
                runs.append((current, gids))
    return runs


def _shape(font_bytes: bytes, text: str, direction: str) -> hb.Buffer:
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    buffer.direction = direction
    hb.shape(hb.Font(hb.Face(hb.Blob(font_bytes))), buffer, {})
    return buffer


def _harfbuzz(font_bytes: bytes, text: str, direction: str) -> list[int]:
    """HarfBuzz's glyph ids for `text`, shaped independently of balint_cme."""
    return [info.codepoint for info in _shape(font_bytes, text, direction).glyph_infos]


def _script_bytes(script: ScriptFont, style: Any = "bold") -> bytes:
    font = script_font(script, style)
    assert font is not None, f"{script.package} is a dependency"
    return font.read()


@pytest.mark.parametrize("script", list(NAMES))
def test_name_is_drawn_as_harfbuzz_shapes_it_and_reads_back(
    series_2020: Series, script: str
) -> None:
    name = NAMES[script]
    pdf = render_pdf(certificate_for(renamed(series_2020, name)), key=TEST_KEY)
    runs = _glyph_runs(pdf)
    assert len(runs) == 1, runs  # the name is one run in the script's font; ", DO" is Latin
    direction = "rtl" if script == "Arabic" else "ltr"
    expected = _harfbuzz(_script_bytes(SCRIPTS[script]), name, direction)
    assert runs[0][1] == expected
    # Not just the cmap: shaping changed glyphs or their order, or positioned marks.
    font = TTFont(io.BytesIO(_script_bytes(SCRIPTS[script])))
    plain = [font.getGlyphID(font.getBestCmap()[ord(c)]) for c in name]
    offsets = [
        (p.x_offset, p.y_offset)
        for p in _shape(_script_bytes(SCRIPTS[script]), name, direction).glyph_positions
    ]
    assert expected not in (plain, plain[::-1]) or any(o != (0, 0) for o in offsets)
    text = flat(page_text(pdf))
    # pypdf reorders right-to-left text itself and moves the neutral ", " into the Arabic
    # run ("... ,DO"), so for Arabic only the name is compared.
    assert (name if direction == "rtl" else f"{name}, DO") in text
    assert verify_pdf(pdf, TEST_KEY).status == "valid"  # the page shows the sealed name


def test_devanagari_conjunct_and_vowel_sign_are_formed(series_2020: Series) -> None:
    # प्र is one conjunct glyph (not प + virama + र) and ि is drawn before it.
    font = TTFont(io.BytesIO(_script_bytes(SCRIPTS["Devanagari"])))
    cmap = font.getBestCmap()
    pdf = render_pdf(certificate_for(renamed(series_2020, "प्रिया")))
    gids = _glyph_runs(pdf)[0][1]
    names = [font.getGlyphName(gid) for gid in gids]
    assert names[0].startswith(cmap[ord("ि")])  # the vowel sign (a variant sized for प्र)
    assert cmap[ord("्")] not in names  # no visible virama
    assert cmap[ord("प")] not in names[:2]  # प is part of a conjunct
    assert "प्रिया, DO" in flat(page_text(pdf))


def test_hebrew_name_with_a_named_font(series_2020: Series) -> None:
    name = "נועה כהן"
    layout = CertificateLayout(extra_fonts=(HEBREW_FONT,))
    pdf = render_pdf(certificate_for(renamed(series_2020, name)), layout)
    runs = _glyph_runs(pdf)
    assert len(runs) == 1
    assert runs[0][1] == _harfbuzz(HEBREW_FONT.read_bytes(), name, "rtl")
    assert name in flat(page_text(pdf))


def test_hebrew_without_a_named_font_is_refused_naming_person_and_characters(
    series_2020: Series,
) -> None:
    certificate = certificate_for(renamed(series_2020, "נועה כהן"))
    with pytest.raises(UnrenderableTextError) as caught:
        check_renderable(certificate)
    message = str(caught.value)
    assert "נועה כהן (p02)" in message
    assert "FMMS-2020-0002" in message
    assert caught.value.characters == tuple(dict.fromkeys("נועהכהן"))
    assert "extra_fonts" in message


def test_latin_given_name_and_arabic_family_name_in_visual_order(series_2020: Series) -> None:
    pdf = render_pdf(certificate_for(renamed(series_2020, "Layla الرشيد")))
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    shown: list[tuple[str, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            shown.append((str(font.get("/Subtype")) if font else "", text))

    page.extract_text(visitor_text=visit)
    line = [item for item in shown if "Layla" in item[1] or "DO" in item[1] or "ر" in item[1]]
    # Drawing order (= left to right on one line): Latin "Layla", the Arabic run, ", DO".
    kinds = [kind for kind, _ in line[:3]]
    assert kinds == ["/TrueType", "/Type0", "/TrueType"], line
    runs = _glyph_runs(pdf)
    assert runs[0][1] == _harfbuzz(_script_bytes(SCRIPTS["Arabic"]), "الرشيد", "rtl")
    assert "Layla الرشيد" in flat(page_text(pdf))


def test_devanagari_name_with_latin_credentials_in_order(series_2020: Series) -> None:
    roster = tuple(
        p.evolve(name="प्रिया रघुनाथन", credentials="MBBS") if p.id == "p02" else p
        for p in series_2020.participants
    )
    pdf = render_pdf(certificate_for(series_2020.evolve(participants=roster)))
    assert "प्रिया रघुनाथन, MBBS" in flat(page_text(pdf))
    stream = PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert stream is not None
    content = stream.get_data()
    # The shaped run is drawn before the Latin ", MBBS" in the same text object.
    shaped_at = content.index(b"/BCS")
    latin_at = content.index(b"(, MBBS)") if b"(, MBBS)" in content else content.index(b"MBBS")
    assert shaped_at < latin_at


def test_shaped_certificates_are_byte_identical(series_2020: Series) -> None:
    certificate = certificate_for(renamed(series_2020, "Layla عبد الله"))
    assert render_pdf(certificate) == render_pdf(certificate)


def test_font_collection_face_is_chosen_by_index(series_2020: Series, tmp_path: Path) -> None:
    # A collection whose face 1 is the Hebrew font: face 0 (Devanagari) has no Hebrew.
    collection = TTCollection()
    collection.fonts = [
        TTFont(io.BytesIO(_script_bytes(SCRIPTS["Devanagari"], "regular"))),
        TTFont(HEBREW_FONT),
    ]
    path = tmp_path / "fonts.ttc"
    collection.save(str(path))
    certificate = certificate_for(renamed(series_2020, "נועה כהן"))
    with pytest.raises(UnrenderableTextError):
        render_pdf(certificate, CertificateLayout(extra_fonts=(FontSource(path=path, index=0),)))
    pdf = render_pdf(certificate, CertificateLayout(extra_fonts=(FontSource(path=path, index=1),)))
    assert "נועה כהן" in flat(page_text(pdf))
    assert _glyph_runs(pdf)[0][1] == _harfbuzz(HEBREW_FONT.read_bytes(), "נועה כהן", "rtl")


def test_layout_file_names_a_collection_face_relative_to_itself(tmp_path: Path) -> None:
    from balint_cme.workflow import load_layout

    (tmp_path / "fonts").mkdir()
    layout_file = tmp_path / "layout.toml"
    layout_file.write_text(
        'extra_fonts = ["fonts/hebrew.ttf", { path = "fonts/cjk.ttc", index = 2 }]\n',
        encoding="utf-8",
    )
    layout = load_layout(layout_file)
    assert layout.extra_fonts == (
        tmp_path / "fonts" / "hebrew.ttf",
        FontSource(path=tmp_path / "fonts" / "cjk.ttc", index=2),
    )


def _script_text(script: ScriptFont) -> st.SearchStrategy[str]:
    letters = st.sampled_from(
        [chr(p) for low, high in script.ranges[:1] for p in range(low, high + 1)]
    )
    words = st.text(letters, min_size=1, max_size=8)
    return st.lists(words, min_size=1, max_size=3).map(" ".join)


@pytest.mark.parametrize("script", list(NAMES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_character_is_read_back_once_in_logical_order(
    script: str, data: st.DataObject
) -> None:
    # Whatever HarfBuzz does to a run (ligatures, reordering, marks), the characters the
    # ToUnicode map gives its glyphs are the text itself, each character once, in order.
    text = data.draw(_script_text(SCRIPTS[script]))
    face = ShapedFace("test-" + script, script_font(SCRIPTS[script], "regular"))  # type: ignore[arg-type]
    rtl = script == "Arabic"
    glyphs = face.shape(text, rtl)
    in_order = reversed(glyphs) if rtl else glyphs
    assert "".join(glyph.text for glyph in in_order) == text


@given(
    st.lists(
        st.tuples(st.sampled_from(["Ana", "Ruiz", ",", "MD", "ليلى", "الرشيد", "נועה", "42"])),
        min_size=1,
        max_size=6,
    ).map(lambda words: " ".join(w for (w,) in words))
)
def test_bidi_runs_keep_every_character_and_left_to_right_text_in_place(text: str) -> None:
    runs = visual_runs(text, lambda _, c: "rtl" if "\u0590" <= c <= "\u08ff" else "ltr")
    assert sorted("".join(piece for _, piece, _ in runs)) == sorted(text)
    for font, piece, rtl in runs:
        if rtl and any(c.isalpha() for c in piece):
            assert font == "rtl"  # only right-to-left letters (and neutrals) run right to left
    if not any("\u0590" <= c <= "\u08ff" for c in text):
        assert "".join(piece for _, piece, _ in runs) == text


@given(st.text(st.sampled_from(list("لیىرشدabcAB ()[],.-12")), min_size=1, max_size=24))
def test_visual_order_matches_the_bidi_algorithm(text: str) -> None:
    # python-bidi's get_display (the Rust implementation of the Unicode Bidirectional
    # Algorithm, with bracket pairs; it reorders without mirroring) is the oracle for the
    # order of the runs.
    runs = visual_runs(text, lambda _, c: "rtl" if "\u0590" <= c <= "\u08ff" else "ltr")
    shown = "".join(piece[::-1] if rtl else piece for _, piece, rtl in runs)
    assert shown == get_display(text, base_dir="L")


def test_brackets_around_an_arabic_family_name_are_mirrored(series_2020: Series) -> None:
    # "(" and ")" are drawn from Noto Sans by reportlab; inside the right-to-left name they
    # must face the family name: visually ")الرشيد( ليلى" becomes "ليلى (الرشيد)" read RTL.
    from balint_cme.certificates.fontset import fonts_for as _fonts
    from balint_cme.certificates.layout import DEFAULT_LAYOUT
    from balint_cme.certificates.typesetting import Typesetter as _Typesetter

    runs = _Typesetter(_fonts(DEFAULT_LAYOUT)).runs("ليلى (الرشيد)", "bold")
    latin = [piece for font, piece, _ in runs if isinstance(font, str)]
    assert latin == ["(", ")"]  # left of the family name: "(" (mirrored ")"), right: ")"


@pytest.mark.parametrize("name", [NAMES["Devanagari"] + " " + NAMES["Arabic"]])
def test_long_name_in_complex_scripts_is_fitted_inside_the_page(
    series_2020: Series, name: str
) -> None:
    long_name = " ".join([name] * 6)
    certificate = certificate_for(renamed(series_2020, long_name))
    layout = CertificateLayout()
    width, height = layout.page_size
    for left, baseline, line_width, _ in text_boxes(certificate):
        assert left >= layout.margin - 1
        assert left + line_width <= width - layout.margin + 1
        assert layout.margin - 12 <= baseline <= height - layout.margin
    assert verify_pdf(render_pdf(certificate, key=TEST_KEY), TEST_KEY).status == "valid"
