"""Shaped glyph runs in a PDF: a Type 0 (CIDFontType2) font per shaped face and document.

reportlab embeds TrueType fonts by character, one code per character, so it cannot draw the
glyphs HarfBuzz chooses (a conjunct, a joining form, a ligature) or say which characters they
stand for. Here each (glyph, characters) pair drawn in a document gets its own two-byte code:
a CIDToGIDMap maps codes to glyphs, /W gives each code its glyph's advance, and a ToUnicode
CMap maps each code to its characters in logical order, so text extraction and search give
the name back. The font program is a fontTools subset keeping the glyph ids. Everything is
deterministic: codes are given in drawing order and the subset tag is a hash of the subset.
"""

from __future__ import annotations

import hashlib
import io
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont as FtFont
from reportlab.pdfbase import pdfdoc

from balint_cme.certificates.fonts import FontFile
from balint_cme.certificates.shaping import Glyph, Shaper

__all__ = ["ShapedFace", "glyph_operators"]

# Tables a PDF viewer never reads from an embedded CID font: layout, variations, colour.
_DROPPED = [
    "GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "fvar", "gvar", "avar", "cvar", "HVAR",
    "MVAR", "VVAR", "STAT", "DSIG", "COLR", "CPAL", "SVG ", "sbix", "CBDT", "CBLC", "EBDT",
    "EBLC", "kern", "morx", "feat", "meta",
]  # fmt: skip


@dataclass
class _DocumentState:
    codes: dict[tuple[int, str], int] = field(default_factory=dict)
    """(glyph id, characters) → two-byte code, in the order first drawn."""
    resource: str = ""


class ShapedFace:
    """A font drawn through HarfBuzz: shaping, metrics, and its PDF objects per document."""

    def __init__(self, name: str, font: FontFile) -> None:
        self.name = name
        self.label = font.label
        self.data = font.read()
        self.shaper = Shaper(self.data)
        parsed = FtFont(io.BytesIO(self.data), lazy=True)
        self.units_per_em: int = parsed["head"].unitsPerEm
        scale = 1000.0 / self.units_per_em
        self._advances = [
            round(parsed["hmtx"][glyph][0] * scale) for glyph in parsed.getGlyphOrder()
        ]
        head, hhea = parsed["head"], parsed["hhea"]
        os2 = parsed.get("OS/2")
        self._bbox = [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
        self._ascent = round(hhea.ascent * scale)
        self._descent = round(hhea.descent * scale)
        cap = getattr(os2, "sCapHeight", 0) if os2 is not None else 0
        self._cap_height = round((cap or hhea.ascent) * scale)
        self._italic_angle = float(parsed["post"].italicAngle) if "post" in parsed else 0.0
        weight = getattr(os2, "usWeightClass", 400) if os2 is not None else 400
        self._stem_v = 50 + int((weight / 65.0) ** 2)
        ps_name = parsed["name"].getDebugName(6) if "name" in parsed else None
        self._base_name = "".join(
            c for c in (ps_name or font.label) if (c.isascii() and c.isalnum()) or c in "-_"
        )[:60]
        self.coverage = frozenset(
            point for point, glyph in (parsed.getBestCmap() or {}).items() if glyph != ".notdef"
        )
        parsed.close()
        self._plain: bytes | None = None
        self._lock = threading.Lock()
        self._states: weakref.WeakKeyDictionary[Any, _DocumentState] = weakref.WeakKeyDictionary()

    def shape(self, text: str, rtl: bool) -> tuple[Glyph, ...]:
        return self.shaper.shape(text, rtl)

    def width(self, text: str, rtl: bool = False) -> float:
        """Advance width of `text` shaped as one run, in ems."""
        return sum(glyph.advance for glyph in self.shape(text, rtl)) / 1000.0

    # -- per document ------------------------------------------------------------------------

    def _state(self, document: Any) -> _DocumentState:
        with self._lock:
            state = self._states.get(document)
            if state is None:
                state = _DocumentState()
                self._states[document] = state
                fonts = document.idToObject["BasicFonts"].dict
                state.resource = f"BCS{len(fonts) + len(document.delayedFonts) + 1}"
                while state.resource in fonts:
                    state.resource += "x"
                # reportlab calls addObjects(document) when the PDF is written.
                document.delayedFonts.append(self)
            return state

    def resource_name(self, document: Any) -> str:
        return "/" + self._state(document).resource

    def encode(self, document: Any, glyphs: Sequence[Glyph]) -> list[str]:
        """The hex code of each glyph in this document, allotting new codes as needed."""
        state = self._state(document)
        codes = state.codes
        out: list[str] = []
        for glyph in glyphs:
            key = (glyph.gid, glyph.text)
            code = codes.get(key)
            if code is None:
                code = len(codes) + 1  # 0 stays .notdef
                if code > 0xFFFF:
                    raise ValueError(f"font {self.label}: more than 65535 glyph codes")
                codes[key] = code
            out.append(f"{code:04X}")
        return out

    def nominal_advance(self, gid: int) -> int:
        return self._advances[gid] if 0 <= gid < len(self._advances) else 0

    def addObjects(self, document: Any) -> None:  # reportlab's hook name
        state = self._states.get(document)
        if state is None or not state.codes:
            return
        codes = state.codes
        gids = sorted({gid for gid, _ in codes} | {0})
        program = self._subset(gids)
        tag = _subset_tag(self._base_name, program)
        base_name = f"{tag}+{self._base_name}"

        font_file = pdfdoc.PDFStream()
        font_file.content = program
        font_file.dictionary["Length1"] = len(program)
        font_file.filters = [pdfdoc.PDFZCompress]
        font_file_ref = document.Reference(font_file, f"BalintCmeFontFile:{state.resource}")

        descriptor = pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("FontDescriptor"),
                "FontName": pdfdoc.PDFName(base_name),
                "Flags": 4,  # symbolic: the glyphs are reached by id, not by a standard encoding
                "FontBBox": pdfdoc.PDFArray(self._bbox),
                "ItalicAngle": self._italic_angle,
                "Ascent": self._ascent,
                "Descent": self._descent,
                "CapHeight": self._cap_height,
                "StemV": self._stem_v,
                "FontFile2": font_file_ref,
            }
        )
        descriptor_ref = document.Reference(descriptor, f"BalintCmeFontDesc:{state.resource}")

        ordered = sorted(codes.items(), key=lambda item: item[1])
        cid_to_gid = bytearray(2 * (len(ordered) + 1))
        for (gid, _), code in ordered:
            cid_to_gid[2 * code : 2 * code + 2] = gid.to_bytes(2, "big")
        cid_map = pdfdoc.PDFStream()
        cid_map.content = bytes(cid_to_gid)
        cid_map.filters = [pdfdoc.PDFZCompress]
        cid_map_ref = document.Reference(cid_map, f"BalintCmeCidToGid:{state.resource}")

        widths = pdfdoc.PDFArray(
            [1, pdfdoc.PDFArray([self.nominal_advance(gid) for (gid, _), _code in ordered])]
        )
        descendant = pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("Font"),
                "Subtype": pdfdoc.PDFName("CIDFontType2"),
                "BaseFont": pdfdoc.PDFName(base_name),
                "CIDSystemInfo": pdfdoc.PDFDictionary(
                    {
                        "Registry": pdfdoc.PDFString("Adobe"),
                        "Ordering": pdfdoc.PDFString("Identity"),
                        "Supplement": 0,
                    }
                ),
                "FontDescriptor": descriptor_ref,
                "DW": 0,
                "W": widths,
                "CIDToGIDMap": cid_map_ref,
            }
        )
        descendant_ref = document.Reference(descendant, f"BalintCmeCidFont:{state.resource}")

        to_unicode = pdfdoc.PDFStream()
        to_unicode.content = _to_unicode_cmap([(code, text) for (_, text), code in ordered])
        to_unicode.filters = [pdfdoc.PDFZCompress]
        to_unicode_ref = document.Reference(to_unicode, f"BalintCmeToUnicode:{state.resource}")

        font = pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("Font"),
                "Subtype": pdfdoc.PDFName("Type0"),
                "BaseFont": pdfdoc.PDFName(base_name),
                "Encoding": pdfdoc.PDFName("Identity-H"),
                "DescendantFonts": pdfdoc.PDFArray([descendant_ref]),
                "ToUnicode": to_unicode_ref,
            }
        )
        font_ref = document.Reference(font, f"BalintCmeFont:{state.resource}")
        document.idToObject["BasicFonts"].dict[state.resource] = font_ref

    def _drawing_program(self) -> bytes:
        """The font without the tables a viewer never reads (made once per face): subsetting
        the whole font read its layout tables for every document, about 90 % of the time."""
        with self._lock:
            if self._plain is None:
                font = FtFont(io.BytesIO(self.data), recalcTimestamp=False)
                for tag in (*_DROPPED, "fpgm", "prep", "cvt ", "hdmx", "LTSH", "VDMX"):
                    if tag in font:
                        del font[tag]
                font["post"].formatType = 3.0  # no glyph names: PDF viewers use the ids
                buffer = io.BytesIO()
                font.save(buffer)
                self._plain = buffer.getvalue()
            return self._plain

    def _subset(self, gids: Sequence[int]) -> bytes:
        options = ft_subset.Options()
        options.retain_gids = True  # the CIDToGIDMap names the original glyph ids
        options.drop_tables = [*options.drop_tables, *_DROPPED]
        options.layout_features = []
        options.notdef_outline = True
        options.name_IDs = [0, 1, 2, 3, 4, 5, 6]
        options.name_languages = [0x409]
        options.glyph_names = False
        options.hinting = False
        options.recalc_timestamp = False
        options.prune_unicode_ranges = False
        font = FtFont(io.BytesIO(self._drawing_program()), recalcTimestamp=False)
        subsetter = ft_subset.Subsetter(options)
        subsetter.populate(gids=list(gids))
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
        return buffer.getvalue()


def _subset_tag(name: str, program: bytes) -> str:
    """Six capital letters from a hash of the subset: different subsets get different tags."""
    value = int.from_bytes(hashlib.sha256(name.encode() + program).digest()[:8], "big")
    letters = []
    for _ in range(6):
        value, digit = divmod(value, 26)
        letters.append(chr(ord("A") + digit))
    return "".join(letters)


def _utf16_hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def _to_unicode_cmap(entries: Sequence[tuple[int, str]]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{code:04X}> <{_utf16_hex(text)}>" for code, text in chunk)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return ("\n".join(lines) + "\n").encode("ascii")


def glyph_operators(face: ShapedFace, document: Any, glyphs: Sequence[Glyph], size: float) -> str:
    """Content-stream operators drawing `glyphs` (one run) at the current text position.

    Each glyph's advance is its nominal width (/W) plus a TJ adjustment for the shaped one;
    mark offsets move the pen before the glyph and back after it; vertical offsets use the
    text rise (Ts), reset to 0 at the end.
    """
    codes = face.encode(document, glyphs)
    parts: list[str] = [f"{face.resource_name(document)} {_num(size)} Tf"]
    items: list[str] = []
    rise = 0.0

    def flush() -> None:
        if items:
            parts.append("[" + " ".join(items) + "] TJ")
            items.clear()

    for glyph, code in zip(glyphs, codes, strict=True):
        if glyph.y_offset != rise:
            flush()
            rise = glyph.y_offset
            parts.append(f"{_num(rise * size / 1000.0)} Ts")
        if glyph.x_offset:
            items.append(_num(-glyph.x_offset))
        items.append(f"<{code}>")
        adjust = glyph.advance - face.nominal_advance(glyph.gid) - glyph.x_offset
        if adjust:
            items.append(_num(-adjust))
    flush()
    if rise:
        parts.append("0 Ts")
    return " ".join(parts)


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
