"""The typesetter: text measured, fitted and wrapped in the layout's fonts, in visual order.

Each character goes to the font that draws it (fontset.py); right-to-left runs are ordered by
the bidi algorithm. A line shrinks to fit (down to 75 %), then wraps; a word wider than the
line breaks between characters. Widths are measured once per text and style, at size 1.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from reportlab.pdfbase import pdfmetrics

from balint_cme.certificates.fontset import Face, FontSet
from balint_cme.certificates.glyphs import ShapedFace
from balint_cme.certificates.shaping import mirrored_reversed, visual_runs
from balint_cme.certificates.wording import Span, Style

__all__ = ["Typesetter"]


def _clean(text: str) -> str:
    """NFC, and every whitespace run as one space (reportlab draws no line breaks or tabs)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))


class Typesetter:
    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts
        self._runs: dict[tuple[str, Style], tuple[tuple[Face, str, bool], ...]] = {}
        self._units: dict[tuple[str, Style], float] = {}

    def runs(self, text: str, style: Style) -> tuple[tuple[Face, str, bool], ...]:
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
            made: tuple[tuple[Face, str, bool], ...] = (
                ((fonts.primary[style], text, False),) if text else ()
            )
            self._runs[key] = made
            return made
        choices: list[Face] = []
        previous: Face | None = None
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
