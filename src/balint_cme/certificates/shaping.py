"""Text shaping with HarfBuzz and right-to-left ordering with python-bidi.

A line of text is split into runs of one font and one bidi level (the Unicode Bidirectional
Algorithm, with a left-to-right paragraph: a certificate is an English document), the runs are
put in visual order, and each run drawn by a shaped font is shaped by HarfBuzz into glyphs:
conjuncts formed, vowel signs moved, Arabic letters joined, marks positioned. Each glyph
carries the characters it stands for, so the PDF's ToUnicode map gives the name back in
logical order. No reportlab here: glyphs.py embeds the glyphs, pdf.py places them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import uharfbuzz as hb
from bidi import algorithm as _bidi
from bidi import get_display
from bidi.mirror import MIRRORED

Font = TypeVar("Font")

__all__ = [
    "Glyph",
    "Shaper",
    "bidi_levels",
    "mirrored_reversed",
    "visual_runs",
]


@dataclass(frozen=True)
class Glyph:
    """One positioned glyph, in thousandths of an em (PDF glyph space)."""

    gid: int
    advance: float
    x_offset: float
    y_offset: float
    text: str
    """The characters this glyph stands for in logical order: a cluster's whole text on its
    first glyph (in drawing order), "" on the cluster's other glyphs."""


class Shaper:
    """HarfBuzz shaping with one font face (thread-safe; results cached per text)."""

    def __init__(self, data: bytes, index: int = 0) -> None:
        face = hb.Face(hb.Blob(data), index)
        self._font = hb.Font(face)
        self.units_per_em = face.upem
        self._scale = 1000.0 / face.upem
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, bool], tuple[Glyph, ...]] = {}

    def shape(self, text: str, rtl: bool) -> tuple[Glyph, ...]:
        """Glyphs of `text` (one bidi run) in drawing order, left to right."""
        key = (text, rtl)
        with self._lock:
            known = self._cache.get(key)
            if known is not None:
                return known
            buffer = hb.Buffer()
            buffer.add_str(text)
            buffer.guess_segment_properties()
            buffer.direction = "rtl" if rtl else "ltr"
            # Monotone clusters: a cluster's characters are contiguous in the text.
            buffer.cluster_level = hb.BufferClusterLevel.MONOTONE_CHARACTERS
            hb.shape(self._font, buffer, {})
            infos = buffer.glyph_infos
            positions = buffer.glyph_positions
        clusters = sorted({info.cluster for info in infos})
        ends = {start: end for start, end in zip(clusters, [*clusters[1:], len(text)], strict=True)}
        scale = self._scale
        glyphs: list[Glyph] = []
        seen: set[int] = set()
        for info, position in zip(infos, positions, strict=True):
            cluster = info.cluster
            first = cluster not in seen
            seen.add(cluster)
            glyphs.append(
                Glyph(
                    gid=info.codepoint,
                    advance=position.x_advance * scale,
                    x_offset=position.x_offset * scale,
                    y_offset=position.y_offset * scale,
                    text=text[cluster : ends[cluster]] if first else "",
                )
            )
        made = tuple(glyphs)
        with self._lock:
            self._cache[key] = made
        return made


_LEVELS = re.compile(r"levels:\s*\[(.*?)\]", re.S)
_LEVEL = re.compile(r"Level\(\s*(\d+)\s*,?\s*\)")


def bidi_levels(text: str) -> list[int]:
    """The resolved embedding level of each character (even: left to right), base level 0.

    From python-bidi's Rust implementation of the Unicode Bidirectional Algorithm (with the
    paired-bracket rule, so "ليلى (الرشيد)" keeps its parentheses around the family name). It
    reports levels per UTF-8 byte in its debug output; should that output ever change shape,
    the package's older pure-Python implementation (no bracket pairs) is used instead.
    """
    report = str(get_display(text, base_dir="L", debug=True))
    found = _LEVELS.search(report)
    per_byte = [int(level) for level in _LEVEL.findall(found.group(1))] if found else []
    if len(per_byte) == len(text.encode("utf-8")):
        levels: list[int] = []
        offset = 0
        for character in text:
            levels.append(per_byte[offset])
            offset += len(character.encode("utf-8"))
        return levels
    storage = _bidi.get_empty_storage()
    storage["base_level"] = 0
    storage["base_dir"] = "L"
    _bidi.get_embedding_levels(text, storage)
    _bidi.explicit_embed_and_overrides(storage)
    _bidi.resolve_weak_types(storage)
    _bidi.resolve_neutral_types(storage, False)
    _bidi.resolve_implicit_levels(storage, False)
    return [int(char["level"]) for char in storage["chars"]]


def mirrored_reversed(text: str) -> str:
    """A right-to-left run drawn without HarfBuzz: reversed, brackets mirrored."""
    return "".join(MIRRORED.get(character, character) for character in reversed(text))


def _has_rtl(text: str) -> bool:
    return any(
        0x0590 <= (point := ord(character)) <= 0x08FF
        or 0xFB1D <= point <= 0xFDFF
        or 0xFE70 <= point <= 0xFEFF
        or 0x10800 <= point <= 0x10FFF
        or 0x1E800 <= point <= 0x1EFFF
        for character in text
    )


def visual_runs(text: str, font_of: Callable[[int, str], Font]) -> list[tuple[Font, str, bool]]:
    """(font, text, right-to-left) runs of one line in visual order, left to right.

    `font_of(index, character)` chooses each character's font. Runs split where the font or
    the bidi level changes; rule L2 of the bidi algorithm reverses runs from the highest level
    down to the lowest odd one. A right-to-left run's own text stays in logical order: the
    shaper draws it right to left.
    """
    if not text:
        return []
    levels = bidi_levels(text) if _has_rtl(text) else [0] * len(text)
    runs: list[tuple[Font, str, int]] = []
    start = 0
    current = font_of(0, text[0])
    for index in range(1, len(text) + 1):
        if index < len(text):
            chosen = font_of(index, text[index])
            if chosen == current and levels[index] == levels[start]:
                continue
        runs.append((current, text[start:index], levels[start]))
        if index < len(text):
            start, current = index, chosen
    highest = max(level for _, _, level in runs)
    lowest_odd = min((level for _, _, level in runs if level % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        index = 0
        while index < len(runs):
            if runs[index][2] >= level:
                end = index
                while end < len(runs) and runs[end][2] >= level:
                    end += 1
                runs[index:end] = reversed(runs[index:end])
                index = end
            else:
                index += 1
    return [(font, piece, level % 2 == 1) for font, piece, level in runs]
