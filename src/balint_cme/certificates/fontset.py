"""Which font draws each character of a certificate, and the check that every one is drawable.

The fonts of a layout: Noto Sans (regular, bold, italic instances, registered with reportlab
and drawn unshaped for Latin, Greek and Cyrillic), the packaged Noto fonts of the complex
scripts and the fonts the layout names (both shaped with HarfBuzz). `check_renderable` proves,
before anything is drawn, that every character of a certificate has a glyph, and otherwise
fails with UnrenderableTextError naming the characters; renderers check once per certificate.
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from balint_cme.certificates.content import Certificate
from balint_cme.certificates.fonts import (
    FontFile,
    ScriptFont,
    complex_script,
    load_font_file,
    needs_shaping,
    noto_sans,
    script_font,
)
from balint_cme.certificates.glyphs import ShapedFace
from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout, FontSource
from balint_cme.certificates.wording import Style, drawn_texts
from balint_cme.errors import CertificateError, UnrenderableTextError

__all__ = ["Face", "FontSet", "check_renderable", "fonts_for"]


# A font a character is drawn with: a reportlab font name (Noto Sans, unshaped: Latin, Greek,
# Cyrillic) or a face shaped with HarfBuzz (the complex scripts and the fonts a user names).
Face = str | ShapedFace


class FontSet:
    """The fonts of one layout, and which one draws each character."""

    def __init__(
        self,
        primary: dict[str, str],
        coverage: dict[str, frozenset[int]],
        extras: tuple[ShapedFace, ...],
        cache_dir: Path | None,
    ) -> None:
        self.primary = primary
        """Style → reportlab font name of the Noto Sans instance."""
        self.coverage = coverage
        self.extras = extras
        """The fonts the layout names, tried in order after Noto Sans."""
        self._cache_dir = cache_dir
        self._scripts: dict[tuple[str, str], ShapedFace | None] = {}
        self._lock = threading.Lock()
        self.simple = {
            style: frozenset(
                point
                for point in coverage[name]
                if not needs_shaping(chr(point)) and complex_script(chr(point)) is None
            )
            for style, name in primary.items()
        }
        """Style → code points Noto Sans draws unshaped: text made only of these needs no
        font choice per character (the fast path for Latin, Greek and Cyrillic lines)."""

    def script_face(self, script: ScriptFont, style: Style) -> ShapedFace | None:
        """The packaged font for a complex script, made on first need (None: not installed)."""
        weight = "bold" if style == "bold" else "regular"
        key = (script.script, weight)
        with self._lock:
            if key in self._scripts:
                return self._scripts[key]
        font = script_font(script, style, cache_dir=self._cache_dir)
        face = None if font is None else _shaped_face(f"BalintCme-{font.label}", font)
        with self._lock:
            self._scripts[key] = face
        return face

    def choose(self, character: str, style: Style, previous: Face | None) -> Face | None:
        """The font that draws `character` (None: no configured font can)."""
        point = ord(character)
        if previous is not None and (
            character.isspace() or unicodedata.category(character).startswith("M")
        ):
            # A space or combining mark stays with its neighbours' font when it can.
            covered = (
                previous.coverage if isinstance(previous, ShapedFace) else self.coverage[previous]
            )
            if point in covered:
                return previous
        script = complex_script(character)
        if script is not None:
            face = self.script_face(script, style)
            if face is not None and point in face.coverage:
                return face
        elif not needs_shaping(character):
            name = self.primary[style]
            if point in self.coverage[name]:
                return name
        for extra in self.extras:
            if point in extra.coverage:
                return extra
        if character.isspace():
            return self.primary[style]
        return None

    def missing(self, text: str, style: Style) -> tuple[str, ...]:
        """Characters of `text` (after NFC) no font can draw, each once, in order."""
        text = unicodedata.normalize("NFC", text)
        simple = self.simple[style]
        if all(ord(character) in simple or character.isspace() for character in text):
            return ()
        missing: list[str] = []
        previous: Face | None = None
        for character in text:
            chosen = self.choose(character, style, previous)
            if chosen is None:
                if character not in missing:
                    missing.append(character)
            else:
                previous = chosen
        return tuple(missing)


_font_lock = threading.Lock()
_font_sets: dict[tuple[str, tuple[str, ...]], FontSet] = {}
_faces: dict[str, ShapedFace] = {}


def _shaped_face(name: str, font: FontFile) -> ShapedFace:
    with _font_lock:
        known = _faces.get(name)
    if known is None:
        try:
            known = ShapedFace(name, font)
        except Exception as err:  # fontTools and HarfBuzz raise many types on bad files
            raise CertificateError(f"cannot embed font {font.label}: {err}") from err
        with _font_lock:
            known = _faces.setdefault(name, known)
    return known


def _register(name: str, font: FontFile) -> frozenset[int]:
    registered: Any
    try:
        registered = pdfmetrics.getFont(name)
    except KeyError:
        try:
            registered = TTFont(name, font.open(), shapable=False)
        except Exception as err:  # reportlab raises bare TTFError/ValueError/... on bad files
            raise CertificateError(f"cannot embed font {font.label}: {err}") from err
        pdfmetrics.registerFont(registered)
    char_to_glyph: dict[int, int] = registered.face.charToGlyph
    return frozenset(code for code, glyph in char_to_glyph.items() if glyph)


def _font_key(source: Path | FontSource) -> str:
    if isinstance(source, FontSource):
        return f"{source.path}#{source.index}"
    return str(source)


def fonts_for(layout: CertificateLayout) -> FontSet:
    cache = str(layout.font_cache_dir or "")
    extras = tuple(_font_key(source) for source in layout.extra_fonts)
    key = (cache, extras)
    with _font_lock:
        known = _font_sets.get(key)
        if known is not None:
            return known
        coverage: dict[str, frozenset[int]] = {}
        primary: dict[str, str] = {}
        for style in ("regular", "bold", "italic"):
            font = noto_sans(style, cache_dir=layout.font_cache_dir)
            name = f"BalintCme-{font.label}"
            coverage[name] = _register(name, font)
            primary[style] = name
    faces = []
    for source, source_key in zip(layout.extra_fonts, extras, strict=True):
        if isinstance(source, FontSource):
            font = load_font_file(source.path, source.index)
        else:
            font = load_font_file(source)
        digest = hashlib.sha256(source_key.encode()).hexdigest()[:10]
        faces.append(_shaped_face(f"BalintCme-{font.label}-{digest}", font))
    made = FontSet(primary, coverage, tuple(faces), layout.font_cache_dir)
    with _font_lock:
        return _font_sets.setdefault(key, made)


def check_renderable(certificate: Certificate, layout: CertificateLayout = DEFAULT_LAYOUT) -> None:
    """Raise UnrenderableTextError if the layout's fonts cannot draw some character.

    Complex scripts (Arabic, Devanagari, Tamil, Telugu, Thai, Khmer) are drawn shaped from the
    packaged Noto fonts; other right-to-left and complex scripts (Hebrew, ...) and CJK only
    from a font named in the layout's extra_fonts, never unshaped from Noto Sans.

    Raises:
        UnrenderableTextError: names the person, the field and every missing character (with
            code points), and what would draw them.
        CertificateError: a configured font cannot be used.
    """
    fonts = fonts_for(layout)
    for field, text, style in drawn_texts(certificate):
        missing = fonts.missing(text, style)
        if missing:
            person = certificate.name + (
                f" ({certificate.participant_id})" if certificate.participant_id else ""
            )
            raise UnrenderableTextError(
                field,
                missing,
                person=person,
                certificate=certificate.number,
                advice=_advice(missing),
            )


def _advice(missing: Sequence[str]) -> str:
    """What would draw `missing`: a script package to install, or a font to name."""
    packages = sorted(
        {script.package for c in missing if (script := complex_script(c)) is not None}
    )
    if packages:
        return "install " + " and ".join(packages) + " (they come with balint-cme)"
    return (
        "name a font that covers them in the layout's extra_fonts (a .ttf, a .ttc face with "
        "its index, or an .otf with TrueType outlines: certify --layout FILE; see "
        "docs/certificates.md)"
    )
