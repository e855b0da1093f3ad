"""render_pdf(certificate, layout) -> bytes: the certificate page, drawn with reportlab's canvas.

The only module that draws. Text goes through canvas.drawString, never Paragraph markup, so
"<b>" or "&" in a name prints as typed. Every character is checked against the embedded fonts
first (Noto Sans, then the layout's extra fonts), so a certificate either prints every
character or fails with UnrenderableTextError naming the ones it cannot draw. Long names and
titles shrink, then wrap; the whole page shrinks further rather than run off the paper.
The claims and seal go into the PDF's document information for offline verification, and
with the key, a page seal binding everything the file displays to them (page_seal.py), and
into an embedded JSON file; archive.py makes every document PDF/A-3b (XMP, output intent).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

import segno
from reportlab import rl_config
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFDate, PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from balint_cme.certificates.archive import (
    ATTACHMENT_NAME,
    PDF_VERSION,
    Attachment,
    make_archival,
)
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
from balint_cme.certificates.formatting import (
    format_amount,
    format_date,
    format_dates,
    format_hours,
    join_names,
)
from balint_cme.certificates.glyphs import ShapedFace, glyph_operators
from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout, FontSource
from balint_cme.certificates.page_seal import PAGE_SEAL_KEY, PAGE_SEAL_PLACEHOLDER
from balint_cme.certificates.shaping import mirrored_reversed, visual_runs
from balint_cme.certificates.verification import CLAIMS_FORMAT, metadata_record, seal_page
from balint_cme.errors import CertificateError, UnrenderableTextError

__all__ = [
    "check_renderable",
    "render_pages",
    "render_pdf",
    "text_boxes",
]

Style = Literal["regular", "bold", "italic"]


class Span(NamedTuple):
    """A piece of text in one style and colour."""

    text: str
    style: Style = "regular"
    colour: str | None = None


# ---------------------------------------------------------------------------------------------
# Fonts


# A font a character is drawn with: a reportlab font name (Noto Sans, unshaped: Latin, Greek,
# Cyrillic) or a face shaped with HarfBuzz (the complex scripts and the fonts a user names).
_Face = str | ShapedFace


class _Fonts:
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

    def choose(self, character: str, style: Style, previous: _Face | None) -> _Face | None:
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
        previous: _Face | None = None
        for character in text:
            chosen = self.choose(character, style, previous)
            if chosen is None:
                if character not in missing:
                    missing.append(character)
            else:
                previous = chosen
        return tuple(missing)


_font_lock = threading.Lock()
_font_sets: dict[tuple[str, tuple[str, ...]], _Fonts] = {}
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


def _fonts(layout: CertificateLayout) -> _Fonts:
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
    made = _Fonts(primary, coverage, tuple(faces), layout.font_cache_dir)
    with _font_lock:
        return _font_sets.setdefault(key, made)


def _clean(text: str) -> str:
    """NFC, and every whitespace run as one space (reportlab draws no line breaks or tabs)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))


# ---------------------------------------------------------------------------------------------
# Measuring, fitting, drawing text


class _Typesetter:
    def __init__(self, fonts: _Fonts) -> None:
        self.fonts = fonts
        self._runs: dict[tuple[str, Style], tuple[tuple[_Face, str, bool], ...]] = {}
        self._units: dict[tuple[str, Style], float] = {}

    def runs(self, text: str, style: Style) -> tuple[tuple[_Face, str, bool], ...]:
        """(font, text, right-to-left) pieces in visual order, left to right.

        Each character goes to the font that draws it (fonts.choose); right-to-left runs are
        ordered by the bidi algorithm. A character no font draws stays with Noto Sans (the
        coverage check refuses such text before anything is drawn).
        """
        key = (text, style)
        known = self._runs.get(key)
        if known is not None:
            return known
        fonts = self.fonts
        simple = fonts.simple[style]
        if all(ord(character) in simple or character == " " for character in text):
            made: tuple[tuple[_Face, str, bool], ...] = (
                ((fonts.primary[style], text, False),) if text else ()
            )
            self._runs[key] = made
            return made
        choices: list[_Face] = []
        previous: _Face | None = None
        for character in text:
            chosen = fonts.choose(character, style, previous) or fonts.primary[style]
            choices.append(chosen)
            previous = chosen
        made = tuple(
            # A right-to-left run of Noto Sans (brackets, punctuation between Arabic words)
            # is drawn by reportlab, which knows no direction: reverse and mirror it here.
            (font, mirrored_reversed(piece), False)
            if rtl and not isinstance(font, ShapedFace)
            else (font, piece, rtl)
            for font, piece, rtl in visual_runs(text, lambda index, _: choices[index])
        )
        self._runs[key] = made
        return made

    def width(self, spans: Sequence[Span], size: float) -> float:
        # Widths scale linearly with size: measure each piece once, at size 1.
        total = 0.0
        units = self._units
        for span in spans:
            key = (span.text, span.style)
            unit = units.get(key)
            if unit is None:
                unit = sum(
                    font.width(piece, rtl)
                    if isinstance(font, ShapedFace)
                    else pdfmetrics.stringWidth(piece, font, 1.0)
                    for font, piece, rtl in self.runs(span.text, span.style)
                )
                units[key] = unit
            total += unit
        return total * size

    def wrap(self, spans: Sequence[Span], size: float, max_width: float) -> list[list[Span]]:
        """Greedy word wrap; a word wider than the line breaks between characters."""
        tokens = [
            Span(" " if piece.isspace() else piece, span.style, span.colour)
            for span in spans
            for piece in re.findall(r"\s+|\S+", span.text)
        ]
        lines: list[list[Span]] = [[]]
        used = 0.0
        for token in tokens:
            token_width = self.width([token], size)
            if token.text == " ":
                if lines[-1]:
                    lines[-1].append(token)
                    used += token_width
                continue
            if used + token_width <= max_width or not _has_text(lines[-1]):
                if token_width > max_width:
                    used = self._break_word(token, size, max_width, lines, used)
                    continue
                lines[-1].append(token)
                used += token_width
                continue
            _strip_trailing_space(lines[-1])
            lines.append([])
            used = 0.0
            if token_width > max_width:
                used = self._break_word(token, size, max_width, lines, used)
            else:
                lines[-1].append(token)
                used = token_width
        _strip_trailing_space(lines[-1])
        return [_merge(line) for line in lines if line]

    def _break_word(
        self, token: Span, size: float, max_width: float, lines: list[list[Span]], used: float
    ) -> float:
        piece = ""
        for character in token.text:
            candidate = piece + character
            if used + self.width([Span(candidate, token.style)], size) > max_width and (
                piece or _has_text(lines[-1])
            ):
                if piece:
                    lines[-1].append(Span(piece, token.style, token.colour))
                _strip_trailing_space(lines[-1])
                lines.append([])
                used = 0.0
                piece = character
            else:
                piece = candidate
        lines[-1].append(Span(piece, token.style, token.colour))
        return used + self.width([Span(piece, token.style)], size)

    def fit(
        self,
        spans: Sequence[Span],
        size: float,
        max_width: float,
        *,
        max_lines: int,
        min_size: float,
    ) -> tuple[float, list[list[Span]]]:
        """Shrink to one line (down to 75 %), then wrap (up to max_lines, down to min_size)."""
        spans = [Span(_clean(span.text), span.style, span.colour) for span in spans]
        one_line_floor = max(size * 0.75, min_size)
        whole = self.width(spans, 1.0)
        if whole * one_line_floor <= max_width:
            return min(size, max_width / whole if whole else size), [list(spans)]
        trial = one_line_floor
        while trial >= min_size:
            lines = self.wrap(spans, trial, max_width)
            if len(lines) <= max_lines:
                return trial, lines
            trial -= max(0.25, trial * 0.05)
        return min_size, self.wrap(spans, min_size, max_width)


def _merge(line: Sequence[Span]) -> list[Span]:
    """Neighbouring pieces of one style and colour as one span."""
    merged: list[Span] = []
    for span in line:
        if merged and merged[-1].style == span.style and merged[-1].colour == span.colour:
            merged[-1] = Span(merged[-1].text + span.text, span.style, span.colour)
        else:
            merged.append(span)
    return merged


def _has_text(line: Sequence[Span]) -> bool:
    return any(span.text.strip() for span in line)


def _strip_trailing_space(line: list[Span]) -> None:
    while line and line[-1].text == " ":
        line.pop()


# ---------------------------------------------------------------------------------------------
# Page plan: blocks of lines measured for a scale, drawn top to bottom


@dataclass
class _Block:
    lines: list[list[Span]]
    size: float
    colour: str
    leading: float
    space_after: float
    char_space: float = 0.0
    rule_after: float = 0.0
    """Width of an accent rule drawn under the block (0: none)."""
    image: Path | None = None
    image_height: float = 0.0

    @property
    def height(self) -> float:
        if self.image is not None:
            return self.image_height + self.space_after
        return len(self.lines) * self.size * self.leading + self.space_after


class _Page:
    """Draws one certificate on a canvas page."""

    def __init__(self, canvas: Canvas, layout: CertificateLayout, setter: _Typesetter) -> None:
        self.canvas = canvas
        self.layout = layout
        self.setter = setter
        self.width, self.height = layout.page_size
        self.margin = layout.margin
        self.text_width = self.width - 2 * self.margin - 24
        self.boxes: list[tuple[float, float, float, float]] = []
        """(left, baseline, width, size) of every line drawn."""

    # -- primitives --------------------------------------------------------------------------

    def colour(self, value: str | None, default: str) -> Color:
        return HexColor(value or default)

    def draw_line(
        self,
        spans: Sequence[Span],
        y: float,
        size: float,
        colour: str,
        *,
        align: Literal["left", "centre", "right"] = "centre",
        x: float | None = None,
        char_space: float = 0.0,
    ) -> None:
        count = sum(len(span.text) for span in spans)
        line_width = self.setter.width(spans, size) + char_space * max(count - 1, 0)
        if align == "centre":
            left = (self.width - line_width) / 2 if x is None else x - line_width / 2
        elif align == "right":
            left = (x if x is not None else self.width - self.margin) - line_width
        else:
            left = x if x is not None else self.margin
        self.boxes.append((left, y, line_width, size))
        # One text object per line: the pieces follow each other, so text extraction reads
        # the line as written, without breaks where the font or colour changes.
        text = self.canvas.beginText(left, y)
        if char_space:
            text.setCharSpace(char_space)
        for span in spans:
            text.setFillColor(self.colour(span.colour, colour))
            for font, piece, rtl in self.setter.runs(span.text, span.style):
                if isinstance(font, ShapedFace):
                    glyphs = font.shape(piece, rtl)
                    cast(Any, text)._code.append(
                        glyph_operators(font, cast(Any, self.canvas)._doc, glyphs, size)
                    )
                    continue
                text.setFont(font, size)
                text.textOut(piece)
        if char_space:
            text.setCharSpace(0)  # the spacing is graphics state: it would outlive this line
        self.canvas.drawText(text)

    # -- the page ----------------------------------------------------------------------------

    def border(self) -> None:
        layout, canvas = self.layout, self.canvas
        if not layout.border:
            return
        inset = max(self.margin * 0.45, 12.0)
        canvas.setStrokeColor(HexColor(layout.primary_colour))
        canvas.setLineWidth(2.2)
        canvas.rect(inset, inset, self.width - 2 * inset, self.height - 2 * inset)
        canvas.setStrokeColor(HexColor(layout.accent_colour))
        canvas.setLineWidth(0.8)
        gap = 5.0
        canvas.rect(
            inset + gap,
            inset + gap,
            self.width - 2 * (inset + gap),
            self.height - 2 * (inset + gap),
        )

    def body_blocks(self, certificate: Certificate, scale: float) -> list[_Block]:
        layout, setter = self.layout, self.setter
        width = self.text_width
        floor = layout.min_scale
        blocks: list[_Block] = []

        def block(
            spans: Sequence[Span],
            size: float,
            colour: str,
            *,
            space_after: float,
            max_lines: int = 1,
            leading: float = 1.25,
            max_width: float = width,
            **extra: Any,
        ) -> None:
            fitted_size, lines = setter.fit(
                spans, size * scale, max_width, max_lines=max_lines, min_size=size * floor
            )
            blocks.append(_Block(lines, fitted_size, colour, leading, space_after * scale, **extra))

        if layout.logo is not None:
            blocks.append(
                _Block(
                    [],
                    0,
                    "",
                    1,
                    10 * scale,
                    image=layout.logo,
                    image_height=layout.logo_height * scale,
                )
            )
        block(
            [Span(certificate.provider, "bold")],
            13.5,
            layout.primary_colour,
            space_after=3 if certificate.joint_providers else 14,
            max_lines=2,
        )
        if certificate.joint_providers:
            block(
                [
                    Span(
                        "in joint providership with " + join_names(certificate.joint_providers),
                        "italic",
                    )
                ],
                10.5,
                layout.muted_colour,
                space_after=14,
                max_lines=2,
            )
        title = (
            "Certificate of Credit"
            if certificate.kind == "credit"
            else "Certificate of Participation"
        )
        block(
            [Span(title.upper())],
            layout.title_size,
            layout.primary_colour,
            space_after=10,
            char_space=2.0 * scale,
            rule_after=150 * scale,
            leading=1.15,
        )
        block(
            [Span("This certifies that", "italic")],
            layout.body_size,
            layout.muted_colour,
            space_after=8,
        )
        person = certificate.name + (
            f", {certificate.credentials}" if certificate.credentials else ""
        )
        block(
            [Span(person, "bold")],
            layout.name_size,
            layout.text_colour,
            space_after=9,
            max_lines=2,
            leading=1.18,
            rule_after=min(width * 0.72, 440 * scale),
        )
        block(
            [Span(f"has participated in the {certificate.learning_format}")],
            layout.body_size,
            layout.text_colour,
            space_after=6,
        )
        block(
            [Span(certificate.series_title, "bold")],
            layout.activity_size,
            layout.primary_colour,
            space_after=6,
            max_lines=2,
            leading=1.2,
        )
        sessions = (
            "Session attended: " if len(certificate.session_dates) == 1 else "Sessions attended: "
        )
        block(
            [
                Span("Location: ", colour=layout.muted_colour),
                Span(f"{certificate.location} ({_delivery(certificate.delivery)})"),
                Span("   ·   "),
                Span(sessions, colour=layout.muted_colour),
                Span(format_dates(certificate.session_dates)),
            ],
            layout.body_size * 0.92,
            layout.text_colour,
            space_after=12,
            max_lines=3,
            leading=1.3,
        )
        block(
            self.award_spans(certificate),
            layout.body_size * 1.17,
            layout.text_colour,
            space_after=14,
            max_lines=3,
            leading=1.3,
        )
        statement_width = min(width, 560.0)
        block(
            _italicise(certificate.designation_statement, certificate.credit_phrase_designated),
            layout.statement_size,
            layout.muted_colour,
            space_after=5,
            max_lines=40,
            leading=1.35,
            max_width=statement_width,
        )
        block(
            [Span(certificate.accreditation_statement)],
            layout.statement_size,
            layout.muted_colour,
            space_after=0,
            max_lines=40,
            leading=1.35,
            max_width=statement_width,
        )
        return blocks

    def award_spans(self, certificate: Certificate) -> list[Span]:
        if certificate.kind == "credit":
            assert certificate.credits is not None
            return [
                Span("and is awarded "),
                Span(format_amount(certificate.credits) + " ", "bold"),
                Span(certificate.credit_phrase_awarded, "italic"),
                Span("."),
            ]
        assert certificate.hours is not None
        return [
            Span("for "),
            Span(format_hours(certificate.hours), "bold"),
            Span(" of participation. This certificate awards no "),
            Span(certificate.credit_phrase_designated.replace("(s)", ""), "italic"),
            Span("."),
        ]

    def draw_blocks(self, blocks: list[_Block], top: float) -> None:
        canvas = self.canvas
        y = top
        for block in blocks:
            if block.image is not None:
                self.draw_image(
                    block.image,
                    self.width / 2,
                    y - block.image_height,
                    block.image_height,
                    self.text_width,
                )
                y -= block.height
                continue
            for line in block.lines:
                y -= block.size * block.leading
                baseline = y + block.size * (block.leading - 1.0) + block.size * 0.22
                self.draw_line(
                    line, baseline, block.size, block.colour, char_space=block.char_space
                )
            if block.rule_after:
                canvas.setStrokeColor(HexColor(self.layout.accent_colour))
                canvas.setLineWidth(0.9)
                rule_y = y - block.space_after * 0.15
                canvas.line(
                    (self.width - block.rule_after) / 2,
                    rule_y,
                    (self.width + block.rule_after) / 2,
                    rule_y,
                )
            y -= block.space_after

    def draw_image(
        self, path: Path, centre_x: float, bottom: float, height: float, max_width: float
    ) -> None:
        try:
            reader = ImageReader(str(path))
            pixel_width, pixel_height = reader.getSize()
        except Exception as err:  # PIL and reportlab raise many types for a bad image
            raise CertificateError(f"cannot use image {path}: {err}") from err
        draw_width = height * pixel_width / pixel_height
        draw_height = height
        if draw_width > max_width:
            draw_width, draw_height = max_width, max_width * pixel_height / pixel_width
        self.canvas.drawImage(
            reader,
            centre_x - draw_width / 2,
            bottom + (height - draw_height) / 2,
            draw_width,
            draw_height,
            mask="auto",
        )

    def signatures(self, certificate: Certificate, line_y: float) -> None:
        layout, canvas, setter = self.layout, self.canvas, self.setter
        signers = certificate.facilitators
        if not signers:
            return
        images = {item.facilitator: item.image for item in layout.signature_images}
        available = self.width - 2 * self.margin - 24
        gap = 28.0
        column = min(210.0, (available - gap * (len(signers) - 1)) / len(signers))
        total = column * len(signers) + gap * (len(signers) - 1)
        left = (self.width - total) / 2
        size = layout.footer_size
        for index, signer in enumerate(signers):
            x = left + index * (column + gap)
            centre = x + column / 2
            image = images.get(signer.name)
            if image is not None:
                self.draw_image(image, centre, line_y + 2, 30.0, column)
            canvas.setStrokeColor(HexColor(layout.text_colour))
            canvas.setLineWidth(0.6)
            canvas.line(x, line_y, x + column, line_y)
            label = signer.name + (f", {signer.credentials}" if signer.credentials else "")
            fitted, lines = setter.fit(
                [Span(label, "bold")], size * 1.05, column, max_lines=2, min_size=size * 0.55
            )
            y = line_y - fitted * 1.3
            for line in lines:
                self.draw_line(line, y, fitted, layout.text_colour, x=centre)
                y -= fitted * 1.2
            self.draw_line(
                [Span("Facilitator", "italic")], y - 1, size * 0.92, layout.muted_colour, x=centre
            )

    def footer(self, certificate: Certificate) -> None:
        layout, setter = self.layout, self.setter
        size = layout.footer_size
        qr_room = layout.qr_size + 16 if layout.show_qr else 0
        width = self.width - 2 * self.margin - 12 - qr_room
        muted, text = layout.muted_colour, layout.text_colour
        rows: list[list[Span]] = [
            [
                Span("Date of issue: ", colour=muted),
                Span(format_date(certificate.issued_on), "bold"),
                Span(" · ", colour=muted),
                Span("Certificate no. ", colour=muted),
                Span(certificate.number, "bold"),
            ]
            + (
                [Span(f"  (version {certificate.version})", colour=muted)]
                if certificate.version > 1
                else []
            ),
            [
                Span("Verification code: ", colour=muted),
                Span(certificate.verification_code, "bold"),
            ],
        ]
        if certificate.verify_url:
            rows.append([Span("Verify at ", colour=muted), Span(certificate.verify_url)])
        else:
            rows.append(
                [
                    Span(
                        "To verify, give this code to the provider or scan the QR code.",
                        colour=muted,
                    )
                ]
            )
        lines: list[tuple[float, list[Span], bool]] = []
        for row_index, row in enumerate(rows):
            fitted, wrapped = setter.fit(row, size, width, max_lines=3, min_size=size * 0.5)
            is_url = bool(certificate.verify_url) and row_index == len(rows) - 1
            lines.extend((fitted, line, is_url) for line in wrapped)
        y = self.margin + sum(f * 1.45 for f, _, _ in lines) - lines[0][0]
        y = max(y, self.margin)
        link: list[tuple[float, float, float, float]] = []
        for fitted, line, is_url in lines:
            self.draw_line(line, y, fitted, text, align="left", x=self.margin + 6)
            if is_url:
                left, baseline, line_width, _ = self.boxes[-1]
                link.append((left, baseline - 0.3 * fitted, left + line_width, baseline + fitted))
            y -= fitted * 1.45
        if link and certificate.verify_url:
            # One link annotation (/Link, /URI action, no border) over the printed "Verify at"
            # line, so the URL opens from a PDF viewer too.
            rect = (
                min(r[0] for r in link),
                min(r[1] for r in link),
                max(r[2] for r in link),
                max(r[3] for r in link),
            )
            self.canvas.linkURL(certificate.verify_url, rect, relative=0, thickness=0)
        if layout.show_qr:
            _draw_qr(
                self.canvas,
                certificate.qr_payload,
                self.width - self.margin - 6 - layout.qr_size,
                self.margin - 4,
                layout.qr_size,
                HexColor(layout.text_colour),
                mixed=bool(certificate.verify_url),
            )

    def footer_height(self, certificate: Certificate) -> float:
        return max(
            self.layout.qr_size if self.layout.show_qr else 0, 3 * self.layout.footer_size * 1.45
        )

    def draw(self, certificate: Certificate) -> None:
        self.border()
        footer_top = self.margin + self.footer_height(certificate)
        signature_line = footer_top + 34 if certificate.facilitators else footer_top
        body_bottom = signature_line + (40 if certificate.facilitators else 14)
        top = self.height - self.margin
        available = top - body_bottom
        scale = 1.0
        while True:
            blocks = self.body_blocks(certificate, scale)
            total = sum(block.height for block in blocks)
            if total <= available:
                break
            if scale <= 0.2:
                raise CertificateError(
                    f"certificate {certificate.number}: the text is too long to fit the page "
                    "even at the smallest size"
                )
            scale *= 0.93
        # Share the spare height: first widen the gaps between blocks (up to 2.5 times), then
        # centre the body in the space above the signatures.
        slack = available - total
        gaps = sum(block.space_after for block in blocks[:-1])
        if gaps > 0 and slack > 0:
            growth = min(slack / gaps, 1.5)
            for block in blocks[:-1]:
                block.space_after *= 1 + growth
            slack -= gaps * growth
        self.draw_blocks(blocks, top - slack * 0.45)
        self.signatures(certificate, signature_line)
        self.footer(certificate)


def _delivery(delivery: str) -> str:
    return {
        "virtual": "live, virtual",
        "in-person": "in person",
        "hybrid": "in person and live virtual",
    }[delivery]


def _italicise(text: str, phrase: str) -> list[Span]:
    before, found, after = text.partition(phrase)
    if not found:
        return [Span(text)]
    return [Span(before), Span(phrase, "italic"), Span(after)]


_QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
# Bits per character times 6 (numeric 10/3, alphanumeric 11/2, byte 8), and a segment's header
# (4-bit mode + character count: 10, 9 and 8 bits up to version 9, where verify URLs land).
_QR_CHAR_COST = {"numeric": 20, "alphanumeric": 33, "byte": 48}
_QR_HEADER_COST = {"numeric": 6 * 14, "alphanumeric": 6 * 13, "byte": 6 * 12}


def _qr_fits(mode: str, char: str) -> bool:
    if mode == "numeric":
        return char.isascii() and char.isdigit()
    if mode == "alphanumeric":
        return char in _QR_ALPHANUMERIC
    return True


def qr_segments(payload: str) -> list[tuple[str, str]]:
    """`payload` split into QR segments (numeric, alphanumeric, byte) that take the fewest bits.

    A URL mixes upper-case runs (alphanumeric mode: 5.5 bits a character) with characters only
    byte mode holds (8 bits); one segment per run, where the switch pays for its header, gives
    a smaller code than byte mode for the whole string.
    """
    if not payload:
        return [("", "byte")]
    modes = tuple(_QR_CHAR_COST)
    infinity = 1 << 60
    # cost[mode]: fewest bits (x6) for the characters so far, ending in a segment of `mode`;
    # came[i][mode]: the mode of character i - 1 on that cheapest path (to walk back).
    cost: dict[str, int] = {}
    came: list[dict[str, str]] = []
    for index, char in enumerate(payload):
        step: dict[str, int] = {}
        back: dict[str, str] = {}
        for mode in modes:
            if not _qr_fits(mode, char):
                step[mode] = infinity
                back[mode] = mode
                continue
            if index == 0:
                total, before = _QR_HEADER_COST[mode], mode
            else:
                total, before = min(
                    (cost[b] + (0 if b == mode else _QR_HEADER_COST[mode]), b) for b in modes
                )
            width = len(char.encode("utf-8")) if mode == "byte" else 1
            step[mode] = total + _QR_CHAR_COST[mode] * width
            back[mode] = before
        cost = step
        came.append(back)
    mode = min(modes, key=lambda m: cost[m])
    chosen = [mode]
    for index in range(len(payload) - 1, 0, -1):
        mode = came[index][mode]
        chosen.append(mode)
    chosen.reverse()
    segments: list[tuple[str, str]] = []
    for char, char_mode in zip(payload, chosen, strict=True):
        if segments and segments[-1][1] == char_mode:
            segments[-1] = (segments[-1][0] + char, char_mode)
        else:
            segments.append((char, char_mode))
    return segments


def qr_symbol(payload: str, *, mixed: bool = True) -> Any:
    """The segno QR code drawn for `payload` (error correction M): in the fewest-bit segments
    when `mixed`, else in the one mode segno picks for the whole string."""
    if not mixed:
        return segno.make(payload, error="m", micro=False)
    # Each segment's text is given alone: segno picks its (already cheapest) mode itself.
    segments: Any = [text for text, _ in qr_segments(payload)]  # segno's stubs say str only
    return segno.make(segments, error="m", micro=False)


def _draw_qr(
    canvas: Canvas, payload: str, x: float, y: float, size: float, colour: Color, *, mixed: bool
) -> None:
    """The QR code as one filled vector path, one rectangle per run of dark modules.

    Drawn in a coordinate system of one unit per module, so every rectangle is four small
    integers: reportlab's float formatting would cost more than the encoding.
    """
    matrix = qr_symbol(payload, mixed=mixed).matrix
    count = len(matrix)
    operators: list[str] = []
    for row_index, row in enumerate(matrix):
        bottom = count - row_index - 1
        column = 0
        while column < count:
            if row[column] & 1:
                start = column
                while column < count and row[column] & 1:
                    column += 1
                operators.append(f"{start} {bottom} {column - start} 1 re")
            else:
                column += 1
    canvas.saveState()
    canvas.setFillColor(colour)
    canvas.translate(x, y)
    canvas.scale(size / count, size / count)
    canvas.addLiteral("\n".join(operators) + "\nf")
    canvas.restoreState()


# ---------------------------------------------------------------------------------------------
# Coverage


def _fields(certificate: Certificate) -> Iterator[tuple[str, str, Style]]:
    yield "name", certificate.name, "bold"
    yield "credentials", certificate.credentials, "bold"
    yield "series_title", certificate.series_title, "bold"
    yield "provider", certificate.provider, "bold"
    for provider in certificate.joint_providers:
        yield "joint_providers", provider, "italic"
    yield "accreditor", certificate.accreditor, "regular"
    yield "location", certificate.location, "regular"
    yield "learning_format", certificate.learning_format, "regular"
    yield "number", certificate.number, "bold"
    yield "designation_statement", certificate.designation_statement, "regular"
    yield "designation_statement", certificate.credit_phrase_designated, "italic"
    yield "accreditation_statement", certificate.accreditation_statement, "regular"
    for facilitator in certificate.facilitators:
        yield "facilitators", facilitator.name + facilitator.credentials, "bold"
    if certificate.verify_url:
        yield "verify_url", certificate.verify_url, "regular"


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
    fonts = _fonts(layout)
    for field, text, style in _fields(certificate):
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


# ---------------------------------------------------------------------------------------------
# Documents


class _IssueDate:
    """A reportlab TimeStamp look-alike: the PDF's dates are the issue date, not 'now'."""

    def __init__(self, day: date) -> None:
        self.YMDhms = (day.year, day.month, day.day, 0, 0, 0)
        self.dhh = 0
        self.dmm = 0


class _CertificateInfo(PDFInfo):
    """Document information: title and author for people, the claims for verifiers."""

    def __init__(
        self, *, title: str, author: str, subject: str, issued_on: date, extra: dict[str, str]
    ) -> None:
        super().__init__()
        self.title = title
        self.author = author
        self.subject = subject
        self.creator = "balint_cme"
        self.keywords = ""
        self.issued_on = issued_on
        self._extra = extra

    def format(self, document: Any) -> bytes:
        stamp = PDFDate(ts=_IssueDate(self.issued_on))
        entries: dict[str, object] = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "Subject": PDFString(self.subject),
            "Creator": PDFString(self.creator),
            "Producer": PDFString(self.producer),
            "CreationDate": stamp,
            "ModDate": stamp,
            "Trapped": PDFName("False"),
        }
        for key, value in self._extra.items():
            entries[key] = PDFString(value)
        formatted: bytes = PDFDictionary(entries).format(document)
        return formatted


@contextlib.contextmanager
def _binary_streams() -> Iterator[None]:
    # reportlab wraps every stream in ASCII85 by default: 25 % larger and slower to write. The
    # switch is global in reportlab, so it is set only while a document is being made.
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


def _new_canvas(buffer: io.BytesIO, layout: CertificateLayout, fonts: _Fonts) -> Canvas:
    # invariant=True: no timestamp or random id, so equal certificates give equal bytes.
    # initialFontName: otherwise every page lists Helvetica, a standard-14 font never drawn.
    return Canvas(
        buffer,
        pagesize=layout.page_size,
        invariant=True,
        pageCompression=1,
        initialFontName=fonts.primary["regular"],  # type: ignore[arg-type]  # stubs say float
        pdfVersion=PDF_VERSION,
    )


def _draw(
    canvas: Canvas, certificate: Certificate, layout: CertificateLayout, setter: _Typesetter
) -> None:
    _Page(canvas, layout, setter).draw(certificate)
    canvas.showPage()


def render_pdf(
    certificate: Certificate,
    layout: CertificateLayout = DEFAULT_LAYOUT,
    *,
    key: SigningKey | KeyRing | None = None,
) -> bytes:
    """Draw one certificate and return the PDF bytes (its claims and seal in the metadata).

    With `key` (the key, or a ring holding the key, that sealed the certificate's claims) the
    page is sealed too, so verify_pdf can prove the file shows exactly the sealed claims.
    Without it the page-seal entry holds a placeholder (verify then cannot prove the page):
    render_batch seals such files in the parent process, where the key lives.

    Raises:
        UnrenderableTextError: some character has no glyph in the configured fonts.
        CertificateError: a configured font or image cannot be used, or the text cannot fit.
    """
    check_renderable(certificate, layout)
    fonts = _fonts(layout)
    setter = _Typesetter(fonts)
    buffer = io.BytesIO()
    with _binary_streams():
        canvas = _new_canvas(buffer, layout, fonts)
        kind = (
            "Certificate of credit"
            if certificate.kind == "credit"
            else "Certificate of participation"
        )
        record = metadata_record(certificate.claims, certificate.seal)
        info = _CertificateInfo(
            title=f"{kind} {certificate.number}: {certificate.name}",
            author=certificate.provider,
            subject=certificate.series_title,
            issued_on=certificate.issued_on,
            extra={
                "BalintCmeCertificate": record,
                # A fixed-width placeholder, replaced in place once the digest is known.
                PAGE_SEAL_KEY.removeprefix("/"): PAGE_SEAL_PLACEHOLDER,
            },
        )
        cast(Any, canvas)._doc.info = info
        _archival(
            canvas,
            info,
            certificate={
                "CertificateNumber": certificate.number,
                "ClaimsFormat": CLAIMS_FORMAT,
                "ClaimsFile": ATTACHMENT_NAME,
            },
            attachments=(
                Attachment(
                    name=ATTACHMENT_NAME,
                    data=record.encode("ascii"),
                    mime_type="application/json",
                    description=f"Claims and seal of certificate {certificate.number} (JSON)",
                    # /Data: the information the page presents, in machine-readable form.
                    relationship="Data",
                    modified_on=certificate.issued_on,
                ),
            ),
        )
        _draw(canvas, certificate, layout, setter)
        canvas.save()
    data = buffer.getvalue()
    if key is not None:
        data = seal_page(data, certificate.claims, certificate.seal, key)
    return data


def _archival(
    canvas: Canvas,
    info: _CertificateInfo,
    *,
    certificate: dict[str, str] | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> None:
    """PDF/A-3b structure whose XMP repeats the document information exactly."""
    make_archival(
        canvas,
        title=info.title,
        author=info.author,
        subject=info.subject,
        creator_tool=info.creator,
        producer=info.producer,
        created_on=info.issued_on,
        certificate=certificate,
        attachments=attachments,
    )


def text_boxes(
    certificate: Certificate, layout: CertificateLayout = DEFAULT_LAYOUT
) -> list[tuple[float, float, float, float]]:
    """Where each line of text lands: (left, baseline, width, size) in points, for checks.

    Raises:
        UnrenderableTextError, CertificateError: as render_pdf.
    """
    check_renderable(certificate, layout)
    fonts = _fonts(layout)
    with _binary_streams():
        page = _Page(_new_canvas(io.BytesIO(), layout, fonts), layout, _Typesetter(fonts))
        page.draw(certificate)
    return page.boxes


def render_pages(
    certificates: Iterable[Certificate], layout: CertificateLayout = DEFAULT_LAYOUT
) -> bytes:
    """Many certificates as the pages of one PDF, for printing (no per-certificate claims).

    Raises:
        UnrenderableTextError, CertificateError: as render_pdf.
    """
    fonts = _fonts(layout)
    setter = _Typesetter(fonts)
    buffer = io.BytesIO()
    with _binary_streams():
        canvas = _new_canvas(buffer, layout, fonts)
        first: Certificate | None = None
        count = 0
        for certificate in certificates:
            check_renderable(certificate, layout)
            first = first or certificate
            _draw(canvas, certificate, layout, setter)
            count += 1
        if first is None:
            raise CertificateError("no certificates to render")
        info = _CertificateInfo(
            title=f"{count} certificates: {first.series_title}",
            author=first.provider,
            subject=first.series_title,
            issued_on=first.issued_on,
            extra={},
        )
        cast(Any, canvas)._doc.info = info
        _archival(canvas, info)
        canvas.save()
    return buffer.getvalue()
