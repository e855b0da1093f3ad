"""Text laid out in terminal columns: widths measured as a terminal draws them.

A CJK character takes two columns, a combining accent none; padding by `len()` shifts every
row that holds such a name. wcwidth does the measuring (Unicode's East Asian Width and general
categories); this module only pads. No I/O; sits beside `storage`, below the edges.
"""

from __future__ import annotations

from typing import Literal

from wcwidth import wcswidth, wcwidth

__all__ = ["display_width", "pad"]


def display_width(text: str) -> int:
    """How many terminal columns `text` takes (a character with no width of its own counts 1)."""
    width = wcswidth(text)
    if width >= 0:
        return int(width)
    # wcswidth gives -1 when any character is non-printable; count those as one column each
    # (callers make control characters visible before they print, so this is rare).
    return sum(1 if wcwidth(char) < 0 else int(wcwidth(char)) for char in text)


def pad(text: str, width: int, align: Literal["<", ">"] = "<") -> str:
    """`text` padded with spaces to `width` terminal columns (never cut)."""
    fill = " " * max(width - display_width(text), 0)
    return text + fill if align == "<" else fill + text
