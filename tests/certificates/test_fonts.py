"""Fonts: static Noto Sans instances and their cache, coverage errors that name characters,
and extra fallback fonts (a small TrueType font made here stands in for a CJK font)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont

from balint_cme import Series
from balint_cme.certificates import fonts
from balint_cme.certificates.fonts import (
    default_cache_dir,
    font_coverage,
    load_font_file,
    missing_characters,
    noto_sans,
)
from balint_cme.certificates.layout import CertificateLayout
from balint_cme.certificates.pdf import check_renderable, render_pdf
from balint_cme.errors import CertificateError, UnrenderableTextError
from tests.certificate_helpers import certificate_for, flat, page_text, renamed

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

CJK_NAME = "山田 太郎"


def _box_font(path: Path, characters: str, *, cff: bool = False) -> Path:
    """A tiny font whose glyphs for `characters` are filled squares."""
    names = [".notdef", *(f"uni{ord(c):04X}" for c in characters)]
    builder = FontBuilder(1000, isTTF=not cff)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in characters})
    if cff:
        charstrings = {}
        for name in names:
            pen = T2CharStringPen(1000, None)
            pen.moveTo((100, 0))
            pen.lineTo((900, 0))
            pen.lineTo((900, 800))
            pen.lineTo((100, 800))
            pen.closePath()
            charstrings[name] = pen.getCharString()
        builder.setupCFF("BoxTest", {"FullName": "Box Test"}, charstrings, {})
    else:
        glyphs = {}
        for name in names:
            pen = TTGlyphPen(None)
            pen.moveTo((100, 0))
            pen.lineTo((100, 800))
            pen.lineTo((900, 800))
            pen.lineTo((900, 0))
            pen.closePath()
            glyphs[name] = pen.glyph()
        builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (1000, 100) for name in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "Box Test", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path


def test_cjk_name_without_a_cjk_font_fails_naming_the_characters(series_2020: Series) -> None:
    certificate = certificate_for(renamed(series_2020, CJK_NAME))
    with pytest.raises(UnrenderableTextError) as caught:
        render_pdf(certificate)
    error = caught.value
    assert error.field == "name"
    assert error.characters == ("山", "田", "太", "郎")
    assert "'山' (U+5C71)" in str(error)
    # Whose certificate it is, and every missing character, so the office can act on it.
    assert f"certificate FMMS-2020-0002 for {CJK_NAME} (p02): name:" in str(error)
    assert all(f"'{c}'" in str(error) for c in "山田太郎")
    with pytest.raises(UnrenderableTextError):
        check_renderable(certificate)


def test_cjk_name_renders_with_a_configured_fallback_font(
    series_2020: Series, tmp_path: Path
) -> None:
    font = _box_font(tmp_path / "box-cjk.ttf", "山田太郎")
    layout = CertificateLayout(extra_fonts=(font,))
    certificate = certificate_for(renamed(series_2020, CJK_NAME))
    text = flat(page_text(render_pdf(certificate, layout)))
    assert f"{CJK_NAME}, DO" in text


def test_character_outside_every_font_still_fails_with_a_fallback(
    series_2020: Series, tmp_path: Path
) -> None:
    font = _box_font(tmp_path / "box-cjk.ttf", "山田")
    layout = CertificateLayout(extra_fonts=(font,))
    with pytest.raises(UnrenderableTextError) as caught:
        render_pdf(certificate_for(renamed(series_2020, CJK_NAME)), layout)
    assert caught.value.characters == ("太", "郎")


def test_postscript_outline_font_is_refused_with_advice(tmp_path: Path) -> None:
    font = _box_font(tmp_path / "box.otf", "山", cff=True)
    with pytest.raises(CertificateError, match=r"PostScript \(CFF\).*TrueType font \(\.ttf"):
        load_font_file(font)


def test_otf_with_truetype_outlines_is_accepted(series_2020: Series, tmp_path: Path) -> None:
    font = _box_font(tmp_path / "box-cjk.otf", "山田太郎")
    layout = CertificateLayout(extra_fonts=(font,))
    text = flat(page_text(render_pdf(certificate_for(renamed(series_2020, CJK_NAME)), layout)))
    assert f"{CJK_NAME}, DO" in text


def test_missing_font_file_is_a_certificate_error(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="cannot use font file"):
        load_font_file(tmp_path / "absent.ttf")


def test_noto_sans_instances_are_static_with_the_right_weights() -> None:
    for style, weight, italic in (
        ("regular", 400, False),
        ("bold", 700, False),
        ("italic", 400, True),
    ):
        font_file = noto_sans(style)  # type: ignore[arg-type]
        font = TTFont(font_file.open())
        assert "fvar" not in font
        assert "glyf" in font
        assert font["OS/2"].usWeightClass == weight
        assert bool(font["head"].macStyle & 0b10) == italic


def test_noto_sans_covers_latin_greek_cyrillic_and_vietnamese() -> None:
    coverage = font_coverage(noto_sans("regular"))
    text = "Zoë Ångström Nguyễn Thị Wiśniewski Αθηνά Ольга Şükrü Þórunn ™ ·"
    assert missing_characters(text, [coverage]) == ()
    assert missing_characters("山田 山", [coverage]) == ("山", "田")


def test_instances_are_cached_and_reused(tmp_path: Path) -> None:
    first = noto_sans("regular", cache_dir=tmp_path)
    assert first.path is not None
    assert first.path.is_relative_to(tmp_path)
    assert first.path.read_bytes()[:4] == b"\x00\x01\x00\x00"
    fonts._made.clear()  # a new process would find the file on disk
    again = noto_sans("regular", cache_dir=tmp_path)
    assert again.path == first.path
    assert not list(first.path.parent.glob(".*.tmp"))


def test_unwritable_cache_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    made = noto_sans("italic", cache_dir=blocker / "cache")
    assert made.path is None
    assert made.data is not None
    assert TTFont(io.BytesIO(made.data))["OS/2"].usWeightClass == 400


def test_cache_location_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BALINT_CME_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "balint-cme" / "fonts"
    monkeypatch.setenv("BALINT_CME_CACHE_DIR", str(tmp_path / "own"))
    assert default_cache_dir() == tmp_path / "own" / "fonts"


def test_a_noto_sans_instance_made_at_another_moment_has_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # fontTools stamps head.modified with "now" on save unless told not to; the embedded subset
    # copies it, so a fresh cache folder would change every certificate's bytes.
    from fontTools.ttLib.tables import _h_e_a_d

    from balint_cme.certificates import fonts

    monkeypatch.setattr(_h_e_a_d, "timestampNow", lambda: 0)
    earlier = fonts._instantiate("regular")
    monkeypatch.setattr(_h_e_a_d, "timestampNow", lambda: 2_000_000_000)
    assert fonts._instantiate("regular") == earlier
