"""The certificate fonts: static Noto Sans instances, extra fallback fonts, glyph coverage.

Noto Sans (SIL Open Font License 1.1) comes from the `fontpkg-noto-sans` package as variable
fonts, which reportlab cannot embed. fontTools' instancer makes static Regular, Bold and
Italic instances once; they are cached in `default_cache_dir()` (written atomically, keyed by
the font package's version and this module's recipe) and made in memory when the cache is
not writable. Coverage checks let a certificate fail with the characters it cannot draw
instead of printing boxes. No reportlab here: pdf.py registers what this module provides.
"""

from __future__ import annotations

import io
import threading
import unicodedata
from collections.abc import Iterable, Sequence
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
    "FontFile",
    "FontStyle",
    "default_cache_dir",
    "font_coverage",
    "load_font_file",
    "missing_characters",
    "noto_sans",
]

FontStyle = Literal["regular", "bold", "italic"]

CACHE_ENV = places.CACHE_DIR_ENV
"""Environment variable that overrides the cache root (fonts go in its `fonts/` folder)."""

_RECIPE = "r1"
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
    key = (style, str(folder))
    with _lock:
        known = _made.get(key)
        if known is not None:
            return known
        path = folder / f"{label}.ttf"
        if path.is_file():
            made = FontFile(label, path=path)
        else:
            data = _instantiate(style)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                write_atomically(path, data)
                made = FontFile(label, path=path)
            except OSError:
                # A read-only home or cache: keep the instance in memory for this process.
                made = FontFile(label, data=data)
        _made[key] = made
        return made


def load_font_file(path: Path) -> FontFile:
    """A configured extra font (e.g. a CJK TrueType file), checked for reportlab.

    Raises:
        CertificateError: the file is missing, unreadable, not a font, or has PostScript (CFF)
            outlines, which reportlab cannot embed.
    """
    path = Path(path)
    try:
        font = TTFont(path, lazy=True, fontNumber=0)
        has_glyf = "glyf" in font
        font.close()
    except (OSError, TTLibError, AssertionError, ValueError) as err:
        raise CertificateError(f"cannot use font file {path}: {err}") from err
    if not has_glyf:
        raise CertificateError(
            f"cannot use font file {path}: it has PostScript (CFF) outlines, which reportlab "
            "cannot embed; configure a TrueType (.ttf) font instead"
        )
    return FontFile(f"Extra-{path.stem}", path=path)


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
