"""The certificate fonts: static Noto Sans instances, script fonts, named fonts, coverage.

Noto Sans (SIL Open Font License 1.1) comes from the `fontpkg-noto-sans` package as variable
fonts, which reportlab cannot embed. fontTools' instancer makes static Regular, Bold and
Italic instances once; they are cached in `default_cache_dir()` (written atomically, keyed by
the font package's version and this module's recipe) and made in memory when the cache is
not writable. The complex scripts (Arabic, Devanagari, Tamil, Telugu, Thai, Khmer) come from
the `fontpkg-noto-sans-<script>` packages the same way, but keep their OpenType layout tables:
they are shaped with HarfBuzz (shaping.py). A font the user names (Hebrew, CJK) may be a
.ttf, one face of a .ttc collection, or an .otf with TrueType outlines. Coverage checks let a
certificate fail with the characters it cannot draw instead of printing boxes. No reportlab
here: pdf.py and glyphs.py embed what this module provides.
"""

from __future__ import annotations

import importlib
import io
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Literal

import fontpkg_noto_sans
from fontTools.ttLib import TTFont, TTLibError
from fontTools.varLib import instancer

from balint_cme import places
from balint_cme.errors import CertificateError
from balint_cme.storage import write_atomically

__all__ = [
    "CACHE_ENV",
    "COMPLEX_SCRIPTS",
    "FontFile",
    "FontStyle",
    "ScriptFont",
    "complex_script",
    "default_cache_dir",
    "font_coverage",
    "load_font_file",
    "missing_characters",
    "needs_shaping",
    "noto_sans",
    "script_font",
]

FontStyle = Literal["regular", "bold", "italic"]

CACHE_ENV = places.CACHE_DIR_ENV
"""Environment variable that overrides the cache root (fonts go in its `fonts/` folder)."""

_RECIPE = "r2"  # r2: the instance keeps the source's head.modified (deterministic bytes)
"""Bump when the instancing recipe below changes, so old cached instances are not reused."""

_INSTANCES: dict[FontStyle, tuple[str, dict[str, float]]] = {
    "regular": ("NotoSans[wdth,wght].ttf", {"wght": 400, "wdth": 100}),
    "bold": ("NotoSans[wdth,wght].ttf", {"wght": 700, "wdth": 100}),
    "italic": ("NotoSans-Italic[wdth,wght].ttf", {"wght": 400, "wdth": 100}),
}

# reportlab neither shapes nor kerns, so the OpenType layout tables are dead weight; dropping
# them before instancing makes an instance in under a second instead of about five.
_UNUSED_TABLES = ("GSUB", "GPOS", "GDEF")


@dataclass(frozen=True)
class FontFile:
    """A TrueType font ready for reportlab: a file on disk or, failing a cache, bytes in memory."""

    label: str
    """A stable name for the font, used as its reportlab name (e.g. "NotoSans-Bold")."""
    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)
    shaped: bool = False
    """True for fonts drawn through HarfBuzz (script fonts and named fonts), not reportlab."""

    def read(self) -> bytes:
        """The font file's bytes."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def open(self) -> io.BytesIO | str:
        """What reportlab's TTFont accepts: a path string or a readable buffer."""
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return str(self.path)


def default_cache_dir() -> Path:
    """Where static font instances are cached: `fonts/` in `places.cache_dir()`

    (`$BALINT_CME_CACHE_DIR` if set, else the per-user cache folder of the operating system).
    """
    return places.cache_dir() / "fonts"


def _package_version() -> str:
    try:
        return metadata.version("fontpkg-noto-sans")
    except metadata.PackageNotFoundError:  # an unpacked copy without metadata
        return "unknown"


_lock = threading.Lock()
_made: dict[tuple[FontStyle, str], FontFile] = {}


def _instantiate(style: FontStyle) -> bytes:
    file_name, axes = _INSTANCES[style]
    source = Path(fontpkg_noto_sans.ROOT) / "files" / file_name
    try:
        font = TTFont(source)
    except (OSError, TTLibError) as err:
        raise CertificateError(f"cannot read the Noto Sans font {source}: {err}") from err
    for tag in _UNUSED_TABLES:
        if tag in font:
            del font[tag]
    static = instancer.instantiateVariableFont(font, axes, updateFontNames=True)
    # fontTools stamps head.modified with the current time on save unless told not to; the
    # subset embedded in every PDF copies it, so an instance made at another moment (a fresh
    # cache folder) would change every certificate's bytes.
    static.recalcTimestamp = False
    buffer = io.BytesIO()
    static.save(buffer)
    return buffer.getvalue()


def noto_sans(style: FontStyle, *, cache_dir: Path | None = None) -> FontFile:
    """The static Noto Sans instance for `style`, from the cache or made (and cached) now.

    Raises:
        CertificateError: the packaged variable font cannot be read.
    """
    folder = (cache_dir or default_cache_dir()) / f"noto-sans-{_package_version()}-{_RECIPE}"
    label = f"NotoSans-{style.capitalize()}"
    return _cached_instance(
        (style, str(folder)), folder, label, lambda: _instantiate(style), shaped=False
    )


def _cached_instance(
    key: tuple[FontStyle, str],
    folder: Path,
    label: str,
    make: Callable[[], bytes],
    *,
    shaped: bool,
) -> FontFile:
    """The font `label` from this process, else from `folder`, else made by `make()` and
    written there (kept in memory when the folder cannot be written)."""
    with _lock:
        known = _made.get(key)
        if known is not None:
            return known
        path = folder / f"{label}.ttf"
        if path.is_file():
            made = FontFile(label, path=path, shaped=shaped)
        else:
            data = make()
            try:
                folder.mkdir(parents=True, exist_ok=True)
                write_atomically(path, data)
                made = FontFile(label, path=path, shaped=shaped)
            except OSError:
                # A read-only home or cache: keep the instance in memory for this process.
                made = FontFile(label, data=data, shaped=shaped)
        _made[key] = made
        return made


def load_font_file(path: Path, index: int = 0) -> FontFile:
    """A font the user names (e.g. for Hebrew or CJK), checked for embedding.

    `path` may be a TrueType font (.ttf), a collection (.ttc/.otc: `index` picks the face,
    counted from 0) or an OpenType font (.otf) with TrueType outlines. The face is drawn
    through HarfBuzz, so its shaping tables are used.

    Raises:
        CertificateError: the file is missing, unreadable, not a font, has no face `index`,
            or has PostScript (CFF) outlines, which reportlab cannot embed.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            is_collection = handle.read(4) == b"ttcf"
        font = TTFont(path, lazy=True, fontNumber=index)
        has_glyf = "glyf" in font
        has_cff = "CFF " in font or "CFF2" in font
        font.close()
    except (OSError, TTLibError, AssertionError, ValueError, IndexError) as err:
        where = f" (face {index})" if index else ""
        raise CertificateError(f"cannot use font file {path}{where}: {err}") from err
    if not is_collection and index:
        raise CertificateError(
            f"cannot use font file {path}: face index {index} given, but it is not a "
            "collection (.ttc); leave the index out"
        )
    if has_cff or not has_glyf:
        raise CertificateError(
            f"cannot use font file {path}{f' (face {index})' if is_collection else ''}: it has "
            "PostScript (CFF) outlines, which reportlab cannot embed; configure a TrueType "
            "font (.ttf, or a .ttc/.otf with TrueType outlines) instead"
        )
    label = f"Extra-{path.stem}" + (f"-{index}" if is_collection else "")
    if is_collection:
        # Embedding and shaping work on one face: take it out of the collection once.
        full = TTFont(path, fontNumber=index, recalcTimestamp=False)
        buffer = io.BytesIO()
        full.save(buffer)
        return FontFile(label, data=buffer.getvalue(), shaped=True)
    return FontFile(label, path=path, shaped=True)


# ---------------------------------------------------------------------------------------------
# Complex scripts: shaped with HarfBuzz from the fontpkg-noto-sans-<script> packages


@dataclass(frozen=True)
class ScriptFont:
    """A script whose font comes from PyPI, and the characters it is chosen for."""

    script: str
    package: str
    module: str
    file_name: str
    ranges: tuple[tuple[int, int], ...]


COMPLEX_SCRIPTS: tuple[ScriptFont, ...] = (
    ScriptFont(
        "Arabic",
        "fontpkg-noto-sans-arabic",
        "fontpkg_noto_sans_arabic",
        "NotoSansArabic[wdth,wght].ttf",
        ((0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    ),
    ScriptFont(
        "Devanagari",
        "fontpkg-noto-sans-devanagari",
        "fontpkg_noto_sans_devanagari",
        "NotoSansDevanagari[wdth,wght].ttf",
        ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF)),
    ),
    ScriptFont(
        "Tamil",
        "fontpkg-noto-sans-tamil",
        "fontpkg_noto_sans_tamil",
        "NotoSansTamil[wdth,wght].ttf",
        ((0x0B80, 0x0BFF), (0x11FC0, 0x11FFF)),
    ),
    ScriptFont(
        "Telugu",
        "fontpkg-noto-sans-telugu",
        "fontpkg_noto_sans_telugu",
        "NotoSansTelugu[wdth,wght].ttf",
        ((0x0C00, 0x0C7F),),
    ),
    ScriptFont(
        "Thai",
        "fontpkg-noto-sans-thai",
        "fontpkg_noto_sans_thai",
        "NotoSansThai[wdth,wght].ttf",
        ((0x0E00, 0x0E7F),),
    ),
    ScriptFont(
        "Khmer",
        "fontpkg-noto-sans-khmer",
        "fontpkg_noto_sans_khmer",
        "NotoSansKhmer[wdth,wght].ttf",
        ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    ),
)

# Scripts that are never drawn without a shaping engine: the six above, plus the other
# right-to-left, Indic, South-East Asian and Hangul-jamo blocks a named font may cover.
_SHAPED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0590, 0x08FF),  # Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic
    (0x0900, 0x0DFF),  # Devanagari .. Sinhala
    (0x0E00, 0x0FFF),  # Thai, Lao, Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul jamo
    (0x1780, 0x18AF),  # Khmer, Mongolian
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x1CD0, 0x1CFF),  # Vedic extensions
    (0xA8E0, 0xA8FF),  # Devanagari extended
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms A
    (0xFE70, 0xFEFF),  # Arabic presentation forms B
    (0x10800, 0x10FFF),  # historic right-to-left scripts
    (0x11000, 0x11FFF),  # Brahmic scripts (Brahmi .. Tamil supplement)
)


def complex_script(character: str) -> ScriptFont | None:
    """The packaged script font chosen for `character`, if its script is one of the six."""
    point = ord(character)
    for script in COMPLEX_SCRIPTS:
        if any(low <= point <= high for low, high in script.ranges):
            return script
    return None


def needs_shaping(character: str) -> bool:
    """True when `character` is never drawn unshaped (complex or right-to-left scripts)."""
    point = ord(character)
    return any(low <= point <= high for low, high in _SHAPED_RANGES)


_SCRIPT_RECIPE = "s1"
"""Bump when the script-font instancing below changes."""


def _instantiate_script(script: ScriptFont, weight: int) -> bytes:
    module = importlib.import_module(script.module)
    source = Path(module.ROOT) / "files" / script.file_name
    try:
        font = TTFont(source)
    except (OSError, TTLibError) as err:
        raise CertificateError(f"cannot read the {script.script} font {source}: {err}") from err
    # The layout tables stay: HarfBuzz needs them to form conjuncts and joining forms.
    static = instancer.instantiateVariableFont(
        font, {"wght": weight, "wdth": 100}, updateFontNames=True
    )
    static.recalcTimestamp = False
    buffer = io.BytesIO()
    static.save(buffer)
    return buffer.getvalue()


def script_font(
    script: ScriptFont, style: FontStyle, *, cache_dir: Path | None = None
) -> FontFile | None:
    """The static instance of a packaged script font (bold for "bold", else regular).

    None when the script's font package is not installed. There is no italic: these scripts
    have no italic tradition, so italic text is set upright.

    Raises:
        CertificateError: the packaged variable font cannot be read.
    """
    try:
        version = metadata.version(script.package)
    except metadata.PackageNotFoundError:
        return None
    weight = 700 if style == "bold" else 400
    folder = (cache_dir or default_cache_dir()) / f"{script.package}-{version}-{_SCRIPT_RECIPE}"
    label = f"NotoSans{script.script}-{'Bold' if weight == 700 else 'Regular'}"
    return _cached_instance(
        (_weight_style(style), str(folder / label)),
        folder,
        label,
        lambda: _instantiate_script(script, weight),
        shaped=True,
    )


def _weight_style(style: FontStyle) -> FontStyle:
    """`style` as the cache key's style (bold, or regular for regular and italic)."""
    return "bold" if style == "bold" else "regular"


_coverage: dict[tuple[str, str], frozenset[int]] = {}


def font_coverage(font: FontFile) -> frozenset[int]:
    """The code points `font` has glyphs for (from its best cmap).

    Raises:
        CertificateError: the font cannot be read.
    """
    key = (font.label, str(font.path) if font.path else f"memory:{id(font.data)}")
    with _lock:
        known = _coverage.get(key)
    if known is not None:
        return known
    try:
        source = font.path if font.path is not None else io.BytesIO(font.data or b"")
        parsed = TTFont(source, lazy=True, fontNumber=0)
        cmap = parsed.getBestCmap() or {}
        parsed.close()
    except (OSError, TTLibError, AssertionError, ValueError) as err:
        raise CertificateError(f"cannot read font {font.label}: {err}") from err
    covered = frozenset(cmap)
    with _lock:
        _coverage[key] = covered
    return covered


def missing_characters(text: str, coverages: Iterable[frozenset[int]]) -> tuple[str, ...]:
    """Characters of `text` (after NFC) that no coverage set contains, each once, in order.

    Whitespace counts as drawable: the renderer draws every whitespace run as one space.
    """
    sets: Sequence[frozenset[int]] = tuple(coverages)
    missing: list[str] = []
    for character in unicodedata.normalize("NFC", text):
        if character.isspace() or character in missing:
            continue
        if not any(ord(character) in covered for covered in sets):
            missing.append(character)
    return tuple(missing)
