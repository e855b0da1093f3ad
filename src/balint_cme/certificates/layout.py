"""CertificateLayout: how a certificate page looks, as data (page, margins, fonts, colours, images).

No drawing here: pdf.py reads these values. The default is a US Letter landscape page with a
double rule border in navy and muted gold, set in Noto Sans.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from balint_cme.model import DomainModel, Text

__all__ = [
    "A4_LANDSCAPE",
    "DEFAULT_LAYOUT",
    "LETTER_LANDSCAPE",
    "CertificateLayout",
    "Colour",
    "FontSource",
    "SignatureImage",
]

LETTER_LANDSCAPE = (792.0, 612.0)
"""US Letter, landscape, in points (11 x 8.5 inches)."""
A4_LANDSCAPE = (841.89, 595.28)
"""ISO A4, landscape, in points."""


def _check_colour(value: str) -> str:
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise ValueError(f"{value!r} is not a colour like '#1B365D'")
    return value.upper()


Colour = Annotated[str, AfterValidator(_check_colour)]
"""An RGB colour as '#RRGGBB'."""

Points = Annotated[float, Field(gt=0, le=5000)]


class SignatureImage(DomainModel):
    """A scanned signature drawn above one facilitator's signature line."""

    facilitator: Text
    """The facilitator's name exactly as in the series."""
    image: Path
    """A PNG or JPEG file; drawn keeping its aspect ratio within the space above the line."""


class FontSource(DomainModel):
    """One face of a font collection (.ttc/.otc), e.g. a CJK face of a system font."""

    path: Path
    index: Annotated[int, Field(ge=0, le=255)] = 0
    """Which face of the collection, counted from 0."""


class CertificateLayout(DomainModel):
    """Page geometry, type and ornament of a certificate. Every size is in PDF points (1/72 in)."""

    page_size: tuple[Points, Points] = LETTER_LANDSCAPE
    """(width, height); landscape by default."""
    margin: Annotated[float, Field(ge=0, le=200)] = 54.0
    """Distance from the page edge to the text area (the border sits inside the margin)."""
    border: bool = True
    """Draw a double rule (primary outer, accent inner) around the page."""
    primary_colour: Colour = "#1B365D"
    """Headings, the activity title and the outer border."""
    accent_colour: Colour = "#A8893A"
    """Rules and the inner border."""
    text_colour: Colour = "#222222"
    muted_colour: Colour = "#555555"
    """The statements and the footer labels."""
    title_size: Points = 30.0
    name_size: Points = 30.0
    activity_size: Points = 19.0
    body_size: Points = 12.0
    statement_size: Points = 9.0
    footer_size: Points = 8.6
    min_scale: Annotated[float, Field(gt=0, le=1)] = 0.45
    """The smallest fraction of these sizes that fitting may shrink text to."""
    extra_fonts: tuple[Path | FontSource, ...] = ()
    """Fonts tried, in order, for characters Noto Sans and the packaged script fonts lack
    (Hebrew, CJK, ...): a .ttf, an .otf with TrueType outlines, or a FontSource naming one face
    of a .ttc collection (in TOML: `{ path = "msgothic.ttc", index = 0 }`). Shaped with
    HarfBuzz."""
    font_cache_dir: Path | None = None
    """Where static Noto Sans instances are cached; None means fonts.default_cache_dir()."""
    logo: Path | None = None
    """A PNG or JPEG drawn at the top centre, above the provider's name."""
    logo_height: Points = 54.0
    signature_images: tuple[SignatureImage, ...] = ()
    qr_size: Points = 74.0
    """Edge of the QR code, quiet zone excluded."""
    show_qr: bool = True
    verify_url: Annotated[str, Field(min_length=8, max_length=300)] | None = None
    """The society's verify address: a `balint-cme serve` site ("https://cme.example.org":
    certificates point to .../v/CODE) or a template with {code} (a static site:
    "https://example.org/verify/#{code}"). The QR code then encodes that URL, which is also
    printed and linked on the page; None keeps the code alone in the QR code."""


DEFAULT_LAYOUT = CertificateLayout()
"""US Letter landscape, navy and gold, Noto Sans."""
